package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

func idArgs(ids []int64, from int) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(from, len(ids)), args
}

func (s *Store) CustomerStates(ctx context.Context, ids []int64) (map[int64]crm.CustomerState, error) {
	out := make(map[int64]crm.CustomerState, len(ids))
	for start := 0; start < len(ids); start += chunk {
		in, args := idArgs(ids[start:min(start+chunk, len(ids))], 1)
		rows, err := s.rq().QueryContext(ctx, `SELECT c.id, c.full_name, c.archived_at IS NOT NULL, c.merged_into, u.id, u.name, u.email
			FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var st crm.CustomerState
			var merged, uid sql.NullInt64
			var uname, uemail sql.NullString
			if err := rows.Scan(&id, &st.Name, &st.Archived, &merged, &uid, &uname, &uemail); err != nil {
				rows.Close()
				return nil, err
			}
			st.MergedInto = int64Ptr(merged)
			if uid.Valid {
				st.Owner = &crm.UserRef{ID: uid.Int64, Name: uname.String, Email: uemail.String}
			}
			out[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CustomerIDs pages through the ids matching a filter, in id order: the one
// filter meaning, for "select all matching".
func (s *Store) CustomerIDs(ctx context.Context, f crm.CustomerFilter, afterID int64, limit int) ([]int64, error) {
	where, args := s.where(f)
	args = append(args, afterID)
	cond := fmt.Sprintf("c.id > $%d", len(args))
	if where == "" {
		where = " WHERE " + cond
	} else {
		where += " AND " + cond
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT c.id FROM customers c`+where+fmt.Sprintf(` ORDER BY c.id LIMIT %d`, limit), args...)
}

func (s *Store) BulkSetOwner(ctx context.Context, ids []int64, owner *int64, now time.Time) error {
	for start := 0; start < len(ids); start += chunk {
		in, args := idArgs(ids[start:min(start+chunk, len(ids))], 3)
		if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET owner_id = $1, updated_at = $2 WHERE id IN `+in,
			append([]any{nullInt(owner), ts(now)}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) BulkSetArchived(ctx context.Context, ids []int64, archivedAt *time.Time, now time.Time) error {
	for start := 0; start < len(ids); start += chunk {
		in, args := idArgs(ids[start:min(start+chunk, len(ids))], 3)
		if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET archived_at = $1, updated_at = $2 WHERE id IN `+in,
			append([]any{tsp(archivedAt), ts(now)}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) BulkAddTag(ctx context.Context, ids []int64, tagID int64, now time.Time) ([]int64, error) {
	var added []int64
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		in, args := idArgs(part, 2)
		had := map[int64]bool{}
		have, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT customer_id FROM customer_tags WHERE tag_id = $1 AND customer_id IN `+in, append([]any{tagID}, args...)...)
		if err != nil {
			return nil, err
		}
		for _, id := range have {
			had[id] = true
		}
		var fresh []int64
		for _, id := range part {
			if !had[id] {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		var b strings.Builder
		vals := []any{tagID, ts(now)}
		for i, id := range fresh {
			if i > 0 {
				b.WriteString(", ")
			}
			vals = append(vals, id)
			fmt.Fprintf(&b, "($%d, $1, $2)", len(vals))
		}
		if _, err := s.wq().ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id, added_at) VALUES `+b.String()+` ON CONFLICT DO NOTHING`, vals...); err != nil {
			return nil, err
		}
		in, args = idArgs(fresh, 2)
		if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET updated_at = $1 WHERE id IN `+in, append([]any{ts(now)}, args...)...); err != nil {
			return nil, err
		}
		added = append(added, fresh...)
	}
	return added, nil
}

func (s *Store) SegmentMembersAmong(ctx context.Context, segmentID int64, ids []int64) ([]int64, error) {
	var out []int64
	for start := 0; start < len(ids); start += chunk {
		in, args := idArgs(ids[start:min(start+chunk, len(ids))], 2)
		got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT customer_id FROM segment_members WHERE segment_id = $1 AND customer_id IN `+in, append([]any{segmentID}, args...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// activityPer is how many activity rows one INSERT carries (5 values a row:
// well under both engines' parameter limits).
const activityPer = 200

// AddActivities writes many activity entries: full batches through one
// prepared statement, the rest in one statement of its own.
func (s *Store) AddActivities(ctx context.Context, as []crm.Activity) error {
	args := make([]any, 0, activityPer*5)
	for start := 0; start < len(as); start += activityPer {
		part := as[start:min(start+activityPer, len(as))]
		args = args[:0]
		for _, a := range part {
			var actor any
			if a.Actor != nil {
				actor = a.Actor.ID
			}
			data := string(a.Data)
			if data == "" {
				data = "{}"
			}
			args = append(args, a.CustomerID, actor, a.Kind, data, ts(a.At))
		}
		query := insertActivities(len(part))
		var err error
		if len(part) == activityPer {
			var st *sql.Stmt
			if st, err = s.stmt(ctx, query); err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
		} else {
			_, err = s.wq().ExecContext(ctx, query, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var fullActivityInsert = buildActivityInsert(activityPer)

func insertActivities(rows int) string {
	if rows == activityPer {
		return fullActivityInsert
	}
	return buildActivityInsert(rows)
}

func buildActivityInsert(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO activity (customer_id, user_id, kind, data, at) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		n := i * 5
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
	}
	return b.String()
}

func (s *Store) AddBulkSkips(ctx context.Context, jobID int64, skips []crm.BulkSkip) error {
	const per = 200
	for start := 0; start < len(skips); start += per {
		part := skips[start:min(start+per, len(skips))]
		var b strings.Builder
		args := []any{jobID}
		for i, k := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			args = append(args, k.CustomerID, k.Name, k.Reason)
			fmt.Fprintf(&b, "($1, $%d, $%d, $%d)", n+1, n+2, n+3)
		}
		if _, err := s.wq().ExecContext(ctx, `INSERT INTO bulk_skips (job_id, customer_id, name, reason) VALUES `+b.String()+
			` ON CONFLICT DO NOTHING`, args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ListBulkSkips(ctx context.Context, jobID, afterCustomer int64, limit int) ([]crm.BulkSkip, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.BulkSkip, error) {
		var k crm.BulkSkip
		return k, r.Scan(&k.CustomerID, &k.Name, &k.Reason)
	}, `SELECT customer_id, name, reason FROM bulk_skips WHERE job_id = $1 AND customer_id > $2 ORDER BY customer_id LIMIT $3`, jobID, afterCustomer, limit)
}
