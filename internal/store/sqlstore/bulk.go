package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// idChunk is how many ids one statement of a set-based change names.
const idChunk = 5000

// inList writes ids as a literal SQL list, "(1,2,3)". They are int64s, never
// text from a user; binding them instead costs the SQLite driver a linear
// search per $N, quadratic in the size of the list.
func inList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '(')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ')'))
}

// inChunks calls fn with the ids idChunk at a time.
func inChunks(ids []int64, fn func(part []int64) error) error {
	for start := 0; start < len(ids); start += idChunk {
		if err := fn(ids[start:min(start+idChunk, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CustomerStates(ctx context.Context, ids []int64) (map[int64]crm.CustomerState, error) {
	out := make(map[int64]crm.CustomerState, len(ids))
	err := inChunks(ids, func(part []int64) error {
		rows, err := s.rq().QueryContext(ctx, `SELECT c.id, c.full_name, c.archived_at, c.merged_into, c.owner_id
			FROM customers c WHERE c.id IN `+inList(part), s.once()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var st crm.CustomerState
			var merged, owner sql.NullInt64
			var archived sql.NullTime
			if err := rows.Scan(&id, &st.Name, &archived, &merged, &owner); err != nil {
				return err
			}
			st.ArchivedAt, st.Archived = timePtr(archived), archived.Valid
			st.MergedInto = int64Ptr(merged)
			if owner.Valid {
				st.Owner = &crm.UserRef{ID: owner.Int64}
			}
			out[id] = st
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// the owners' names, read once each (a team has few users)
	owners := map[int64]*crm.UserRef{}
	for _, st := range out {
		if st.Owner != nil {
			owners[st.Owner.ID] = st.Owner
		}
	}
	if len(owners) > 0 {
		ids := make([]int64, 0, len(owners))
		for id := range owners {
			ids = append(ids, id)
		}
		users, err := queryList(ctx, s.rq(), func(r *sql.Rows) (crm.UserRef, error) {
			var u crm.UserRef
			return u, r.Scan(&u.ID, &u.Name, &u.Email)
		}, `SELECT id, name, email FROM users WHERE id IN `+inList(ids), s.once()...)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			*owners[u.ID] = u
		}
		for id, st := range out {
			if st.Owner != nil {
				st.Owner = owners[st.Owner.ID]
				out[id] = st
			}
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

// LockCustomers locks the customers' rows in id order until the
// transaction ends, on engines whose transactions run side by side. Merged
// customers are left alone: nothing changes them again but a later merge
// of the one they point at, which must not wait for a bulk chunk holding them.
func (s *Store) LockCustomers(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return s.lockRows(ctx, "LockCustomers", "")
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	return inChunks(sorted, func(part []int64) error {
		return s.lockRows(ctx, "LockCustomers", `SELECT id FROM customers WHERE id IN `+inList(part)+` AND merged_into IS NULL ORDER BY id`, s.once()...)
	})
}

// lockRows runs query, a SELECT, FOR UPDATE, locking the rows it reads
// until the transaction ends, on engines whose transactions run side by side
// (Locker); SQLite's run one at a time and need no lock. An empty query
// only checks that a transaction is open (what names the caller).
func (s *Store) lockRows(ctx context.Context, what, query string, args ...any) error {
	if s.tx == nil {
		return errors.New("sqlstore: " + what + " outside a transaction")
	}
	l, ok := s.d.(Locker)
	if !ok || query == "" {
		return nil
	}
	rows, err := s.tx.QueryContext(ctx, query+l.ForUpdate(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// ownerCond is the condition of an OwnerExpectation, its argument numbered next.
func ownerCond(expect crm.OwnerExpectation, next int) (string, []any) {
	switch {
	case expect.Any:
		return "", nil
	case expect.UserID == nil:
		return " AND owner_id IS NULL", nil
	default:
		return fmt.Sprintf(" AND owner_id = $%d", next), []any{*expect.UserID}
	}
}

// updateReturning runs query (an UPDATE ending in "id IN ") over the ids,
// idChunk at a time, and returns the ids it changed, in order: the
// statement's own conditions decide, as of the moment it runs.
func (s *Store) updateReturning(ctx context.Context, ids []int64, query string, args ...any) ([]int64, error) {
	var out []int64
	err := inChunks(ids, func(part []int64) error {
		got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, query+inList(part)+` RETURNING id`, s.once(args...)...)
		out = append(out, got...)
		return err
	})
	slices.Sort(out)
	return out, err
}

func (s *Store) BulkSetOwner(ctx context.Context, ids []int64, owner *int64, expect crm.OwnerExpectation, now time.Time) ([]int64, error) {
	cond, args := ownerCond(expect, 3)
	return s.updateReturning(ctx, ids, `UPDATE customers SET owner_id = $1, owner_key = `+ownerKeySQL("$1")+`, updated_at = $2
		WHERE archived_at IS NULL AND merged_into IS NULL`+cond+` AND id IN `, append([]any{nullInt(owner), ts(now)}, args...)...)
}

func (s *Store) BulkSetArchived(ctx context.Context, ids []int64, archivedAt *time.Time, expect crm.OwnerExpectation, now time.Time) ([]int64, error) {
	cond, args := ownerCond(expect, 3)
	state := ` AND archived_at IS NULL`
	if archivedAt == nil {
		state = ` AND archived_at IS NOT NULL`
	}
	return s.updateReturning(ctx, ids, `UPDATE customers SET archived_at = $1, updated_at = $2
		WHERE merged_into IS NULL`+state+cond+` AND id IN `, append([]any{tsp(archivedAt), ts(now)}, args...)...)
}

func (s *Store) BulkAddTag(ctx context.Context, ids []int64, tagID int64, now time.Time) ([]int64, error) {
	var added []int64
	err := inChunks(ids, func(part []int64) error {
		fresh, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `INSERT INTO customer_tags (customer_id, tag_id, added_at) SELECT c.id, $1, $2 FROM customers c WHERE c.id IN `+inList(part)+
			` ON CONFLICT DO NOTHING RETURNING customer_id`, s.once(tagID, ts(now))...)
		if err != nil || len(fresh) == 0 {
			return err
		}
		slices.Sort(fresh)
		if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET updated_at = $1 WHERE id IN `+inList(fresh), s.once(ts(now))...); err != nil {
			return err
		}
		added = append(added, fresh...)
		return nil
	})
	return added, err
}

func (s *Store) SegmentMembersAmong(ctx context.Context, segmentID int64, ids []int64) ([]int64, error) {
	var out []int64
	err := inChunks(ids, func(part []int64) error {
		got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT customer_id FROM segment_members WHERE segment_id = $1 AND customer_id IN `+inList(part), s.once(segmentID)...)
		out = append(out, got...)
		return err
	})
	return out, err
}

// AddActivityFor writes the same activity entry (a's actor, kind, data and
// time) for each of many customers: one statement per idChunk customers.
func (s *Store) AddActivityFor(ctx context.Context, ids []int64, a crm.Activity) error {
	actor, data := activityValues(a)
	return inChunks(ids, func(part []int64) error {
		_, err := s.wq().ExecContext(ctx, `INSERT INTO activity (customer_id, user_id, kind, data, at)
			SELECT c.id, $1, $2, $3, $4 FROM customers c WHERE c.id IN `+inList(part)+` ORDER BY c.id`, s.once(actor, a.Kind, data, ts(a.At))...)
		return err
	})
}

// activityValues are the stored actor (id or NULL) and data ("{}" for none) of an entry.
func activityValues(a crm.Activity) (actor any, data string) {
	if a.Actor != nil {
		actor = a.Actor.ID
	}
	if data = string(a.Data); data == "" {
		data = "{}"
	}
	return actor, data
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
			actor, data := activityValues(a)
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
