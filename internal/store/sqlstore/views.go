package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/acme/crm/internal/crm"
)

// visibleTo is the condition "view v may be seen by user $N": it is theirs,
// or it is shared. Every read and write of a view checks it in its statement.
func visibleTo(n string) string { return "(v.owner_id = " + n + " OR v.shared)" }

const viewCols = `v.id, v.owner_id, u.name, u.email, v.name, v.shared, v.query, v.columns, v.score_product, v.created_at, v.updated_at`

// viewSelect reads views with the pin and default of the user $1.
const viewSelect = `SELECT ` + viewCols + `,
	EXISTS (SELECT 1 FROM saved_view_pins p WHERE p.view_id = v.id AND p.user_id = $1),
	EXISTS (SELECT 1 FROM saved_view_defaults d WHERE d.view_id = v.id AND d.user_id = $1)
	FROM saved_views v JOIN users u ON u.id = v.owner_id`

func scanView(row interface{ Scan(...any) error }) (*crm.SavedView, error) {
	var v crm.SavedView
	var cols string
	if err := row.Scan(&v.ID, &v.Owner.ID, &v.Owner.Name, &v.Owner.Email, &v.Name, &v.Shared, &v.Query, &cols, &v.ScoreProduct,
		&v.CreatedAt, &v.UpdatedAt, &v.Pinned, &v.Default); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cols), &v.Columns); err != nil {
		return nil, err
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return &v, nil
}

func columnsJSON(cols []string) string {
	if cols == nil {
		cols = []string{}
	}
	b, _ := json.Marshal(cols)
	return string(b)
}

// CreateView stores a new view.
func (s *Store) CreateView(ctx context.Context, v *crm.SavedView) error {
	v.CreatedAt = ts(v.CreatedAt)
	v.UpdatedAt = v.CreatedAt
	err := s.wq().QueryRowContext(ctx,
		`INSERT INTO saved_views (owner_id, name, name_key, shared, query, columns, score_product, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		v.Owner.ID, v.Name, crm.NameKey(v.Name), v.Shared, v.Query, columnsJSON(v.Columns), v.ScoreProduct, v.CreatedAt).Scan(&v.ID)
	return s.conflict(err, "a view named "+v.Name+" already exists")
}

// GetView returns a view the user may see.
func (s *Store) GetView(ctx context.Context, id, userID int64) (*crm.SavedView, error) {
	v, err := scanView(s.rq().QueryRowContext(ctx, viewSelect+` WHERE v.id = $2 AND `+visibleTo("$1"), userID, id))
	return v, notFound(err, "view")
}

// ListViews lists the views the user may see, by name.
func (s *Store) ListViews(ctx context.Context, userID int64) ([]crm.SavedView, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.SavedView, error) {
		v, err := scanView(r)
		if err != nil {
			return crm.SavedView{}, err
		}
		return *v, nil
	}, viewSelect+` WHERE `+visibleTo("$1")+` ORDER BY v.name_key, v.id`, userID)
}

// UpdateView writes a view's state when the user may still see it.
func (s *Store) UpdateView(ctx context.Context, v *crm.SavedView, userID int64, now time.Time) error {
	res, err := s.wq().ExecContext(ctx,
		`UPDATE saved_views SET name = $3, name_key = $4, shared = $5, query = $6, columns = $7, score_product = $8, updated_at = $9
		 WHERE id = $1 AND (owner_id = $2 OR shared)`,
		v.ID, userID, v.Name, crm.NameKey(v.Name), v.Shared, v.Query, columnsJSON(v.Columns), v.ScoreProduct, ts(now))
	if err != nil {
		return s.conflict(err, "a view named "+v.Name+" already exists")
	}
	if err := mustAffect(res, nil, "view"); err != nil {
		return err
	}
	v.UpdatedAt = ts(now)
	return nil
}

// DeleteView removes a view the user may still see; pins and defaults go with it.
func (s *Store) DeleteView(ctx context.Context, id, userID int64) error {
	return s.exec1(ctx, "view", `DELETE FROM saved_views WHERE id = $1 AND (owner_id = $2 OR shared)`, id, userID)
}

// SetViewPin pins or unpins a view for a user. A pin or default of a view
// that later stops being visible (made personal) stays in its table but is
// never read: every read checks visibility.
func (s *Store) SetViewPin(ctx context.Context, userID, viewID int64, pinned bool, now time.Time) error {
	if !pinned {
		_, err := s.wq().ExecContext(ctx, `DELETE FROM saved_view_pins WHERE user_id = $1 AND view_id = $2`, userID, viewID)
		return err
	}
	if _, err := s.GetView(ctx, viewID, userID); err != nil {
		return err
	}
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO saved_view_pins (user_id, view_id, created_at) VALUES ($1, $2, $3)
		 ON CONFLICT (user_id, view_id) DO NOTHING`, userID, viewID, ts(now))
	return err
}

// SetDefaultView sets or clears (viewID 0) a user's default view.
func (s *Store) SetDefaultView(ctx context.Context, userID, viewID int64) error {
	if viewID == 0 {
		_, err := s.wq().ExecContext(ctx, `DELETE FROM saved_view_defaults WHERE user_id = $1`, userID)
		return err
	}
	if _, err := s.GetView(ctx, viewID, userID); err != nil {
		return err
	}
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO saved_view_defaults (user_id, view_id) VALUES ($1, $2)
		 ON CONFLICT (user_id) DO UPDATE SET view_id = excluded.view_id`, userID, viewID)
	return err
}

// DefaultView returns the user's default view while it is visible to them.
func (s *Store) DefaultView(ctx context.Context, userID int64) (*crm.SavedView, error) {
	v, err := scanView(s.rq().QueryRowContext(ctx, viewSelect+
		` JOIN saved_view_defaults dv ON dv.view_id = v.id AND dv.user_id = $1 WHERE `+visibleTo("$1"), userID))
	return v, notFound(err, "view")
}

// CountCustomers counts a filter's customers with the list's own count SQL
// (filter, then countSQL), so a view's count means what its table shows.
func (s *Store) CountCustomers(ctx context.Context, f crm.CustomerFilter) (int, bool, error) {
	var r *refs
	if len(f.Tags) > 0 || f.ScoreProduct != "" {
		var err error
		if r, err = s.resolve(ctx, f); err != nil {
			return 0, false, err
		}
	}
	fl := s.filter(f, r)
	if fl.none {
		return 0, true, nil
	}
	q := s.countSQL(fl)
	if len(fl.sets) > 1 { // countSQL lists the ids then
		q = "SELECT count(*) FROM (" + q + ") y"
	}
	var n int
	if err := s.rq().QueryRowContext(ctx, q, fl.args...).Scan(&n); err != nil {
		return 0, false, err
	}
	if n > CountCap {
		return CountCap, false, nil
	}
	return n, true, nil
}

// TagsNamed returns the name keys of the names that are a tag.
func (s *Store) TagsNamed(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	keys := make([]any, len(names))
	for i, n := range names {
		keys[i] = crm.NameKey(n)
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (string, error) {
		var k string
		return k, r.Scan(&k)
	}, `SELECT name_key FROM tags WHERE name_key IN `+placeholders(1, len(keys)), keys...)
}

// SegmentExists reports whether a segment exists (one primary key probe).
func (s *Store) SegmentExists(ctx context.Context, id int64) (bool, error) {
	var one int
	err := s.rq().QueryRowContext(ctx, `SELECT 1 FROM segments WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
