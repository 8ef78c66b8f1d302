package sqlstore

import (
	"context"
	"database/sql"

	"github.com/acme/crm/internal/crm"
)

// queryList runs a query and scans each row with scan.
func queryList[T any](ctx context.Context, q querier, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// AddMessage stores a message; an inbound one marks its customer has_inbound.
func (s *Store) AddMessage(ctx context.Context, m *crm.Message) error {
	return s.inTx(ctx, func(tx *Store) error {
		m.At = ts(m.At)
		if err := tx.wq().QueryRowContext(ctx,
			`INSERT INTO messages (customer_id, contact_id, direction, channel, address, subject, body, automated, status, user_id, at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			m.CustomerID, nullInt(m.ContactID), string(m.Direction), string(m.Channel), m.Address, m.Subject, m.Body,
			m.Automated, m.Status, nullInt(m.UserID), m.At).Scan(&m.ID); err != nil {
			return err
		}
		if m.Direction == crm.Inbound {
			_, err := tx.wq().ExecContext(ctx, `UPDATE customers SET has_inbound = true WHERE id = $1 AND NOT has_inbound`, m.CustomerID)
			return err
		}
		return nil
	})
}

func (s *Store) ListMessages(ctx context.Context, customerID int64, limit int) ([]crm.Message, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (crm.Message, error) {
		var m crm.Message
		var contact, user sql.NullInt64
		err := r.Scan(&m.ID, &m.CustomerID, &contact, &m.Direction, &m.Channel, &m.Address, &m.Subject, &m.Body, &m.Automated, &m.Status, &user, &m.At)
		m.ContactID, m.UserID, m.At = int64Ptr(contact), int64Ptr(user), m.At.UTC()
		return m, err
	}, `SELECT id, customer_id, contact_id, direction, channel, address, subject, body, automated, status, user_id, at
	    FROM messages WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, customerID, limit)
}

func scanDeal(r interface{ Scan(...any) error }) (crm.Deal, error) {
	var d crm.Deal
	var author sql.NullInt64
	err := r.Scan(&d.ID, &d.CustomerID, &d.Title, &d.Amount, &d.Currency, &d.Stage, &author, &d.CreatedAt, &d.UpdatedAt)
	d.AuthorID, d.CreatedAt, d.UpdatedAt = int64Ptr(author), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

const dealCols = `id, customer_id, title, amount, currency, stage, author_id, created_at, updated_at`

func (s *Store) GetDeal(ctx context.Context, id int64) (*crm.Deal, error) {
	d, err := scanDeal(s.rq().QueryRowContext(ctx, `SELECT `+dealCols+` FROM deals WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "deal")
	}
	return &d, nil
}

func scanNote(r interface{ Scan(...any) error }) (crm.Note, error) {
	var n crm.Note
	var author sql.NullInt64
	err := r.Scan(&n.ID, &n.CustomerID, &n.Body, &author, &n.CreatedAt, &n.UpdatedAt)
	n.AuthorID, n.CreatedAt, n.UpdatedAt = int64Ptr(author), n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	return n, err
}

const noteCols = `id, customer_id, body, author_id, created_at, updated_at`

func (s *Store) GetNote(ctx context.Context, id int64) (*crm.Note, error) {
	n, err := scanNote(s.rq().QueryRowContext(ctx, `SELECT `+noteCols+` FROM notes WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "note")
	}
	return &n, nil
}

func scanTask(r interface{ Scan(...any) error }) (crm.Task, error) {
	var t crm.Task
	var due, done sql.NullTime
	var author sql.NullInt64
	err := r.Scan(&t.ID, &t.CustomerID, &t.Title, &due, &done, &author, &t.CreatedAt, &t.UpdatedAt)
	t.Due, t.DoneAt, t.AuthorID = timePtr(due), timePtr(done), int64Ptr(author)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

const taskCols = `id, customer_id, title, due, done_at, author_id, created_at, updated_at`

func (s *Store) GetTask(ctx context.Context, id int64) (*crm.Task, error) {
	t, err := scanTask(s.rq().QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "task")
	}
	return &t, nil
}

func (s *Store) CreateDeal(ctx context.Context, d *crm.Deal) error {
	d.CreatedAt = ts(d.CreatedAt)
	d.UpdatedAt = d.CreatedAt
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO deals (customer_id, title, amount, currency, stage, author_id, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		d.CustomerID, d.Title, d.Amount, d.Currency, d.Stage, nullInt(d.AuthorID), d.CreatedAt).Scan(&d.ID)
}

func (s *Store) UpdateDeal(ctx context.Context, d *crm.Deal) error {
	d.UpdatedAt = ts(d.UpdatedAt)
	return s.exec1(ctx, "deal",
		`UPDATE deals SET title = $2, amount = $3, currency = $4, stage = $5, updated_at = $6 WHERE id = $1`,
		d.ID, d.Title, d.Amount, d.Currency, d.Stage, d.UpdatedAt)
}

func (s *Store) ListDeals(ctx context.Context, customerID int64) ([]crm.Deal, error) {
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (crm.Deal, error) { return scanDeal(r) }, `SELECT `+dealCols+`
	    FROM deals WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, customerID)
}

func (s *Store) CreateNote(ctx context.Context, n *crm.Note) error {
	n.CreatedAt = ts(n.CreatedAt)
	n.UpdatedAt = n.CreatedAt
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO notes (customer_id, body, author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`,
		n.CustomerID, n.Body, nullInt(n.AuthorID), n.CreatedAt).Scan(&n.ID)
}

func (s *Store) UpdateNote(ctx context.Context, n *crm.Note) error {
	n.UpdatedAt = ts(n.UpdatedAt)
	return s.exec1(ctx, "note", `UPDATE notes SET body = $2, updated_at = $3 WHERE id = $1`, n.ID, n.Body, n.UpdatedAt)
}

func (s *Store) ListNotes(ctx context.Context, customerID int64) ([]crm.Note, error) {
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (crm.Note, error) { return scanNote(r) }, `SELECT `+noteCols+` FROM notes WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, customerID)
}

func (s *Store) CreateTask(ctx context.Context, t *crm.Task) error {
	t.CreatedAt = ts(t.CreatedAt)
	t.UpdatedAt = t.CreatedAt
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO tasks (customer_id, title, due, done_at, author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		t.CustomerID, t.Title, tsp(t.Due), tsp(t.DoneAt), nullInt(t.AuthorID), t.CreatedAt).Scan(&t.ID)
}

func (s *Store) UpdateTask(ctx context.Context, t *crm.Task) error {
	t.UpdatedAt = ts(t.UpdatedAt)
	return s.exec1(ctx, "task", `UPDATE tasks SET title = $2, due = $3, done_at = $4, updated_at = $5 WHERE id = $1`,
		t.ID, t.Title, tsp(t.Due), tsp(t.DoneAt), t.UpdatedAt)
}

func (s *Store) ListTasks(ctx context.Context, customerID int64) ([]crm.Task, error) {
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (crm.Task, error) { return scanTask(r) }, `SELECT `+taskCols+` FROM tasks WHERE customer_id = $1
	    ORDER BY done_at IS NOT NULL, due IS NULL, due, id`, customerID)
}

func (s *Store) AddActivity(ctx context.Context, a *crm.Activity) error {
	a.At = ts(a.At)
	data := string(a.Data)
	if data == "" {
		data = "{}"
	}
	var actor any
	if a.Actor != nil {
		actor = a.Actor.ID
	}
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO activity (customer_id, user_id, kind, data, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		a.CustomerID, actor, a.Kind, data, a.At).Scan(&a.ID)
}

func (s *Store) ListActivity(ctx context.Context, customerID, beforeID int64, limit int) ([]crm.Activity, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (crm.Activity, error) {
		var a crm.Activity
		var uid sql.NullInt64
		var uname, uemail sql.NullString
		var data string
		err := r.Scan(&a.ID, &a.CustomerID, &uid, &uname, &uemail, &a.Kind, &data, &a.At)
		a.Data, a.At = []byte(data), a.At.UTC()
		if uid.Valid {
			a.Actor = &crm.UserRef{ID: uid.Int64, Name: uname.String, Email: uemail.String}
		}
		return a, err
	}, `SELECT a.id, a.customer_id, u.id, u.name, u.email, a.kind, a.data, a.at
	    FROM activity a LEFT JOIN users u ON u.id = a.user_id
	    WHERE a.customer_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3`, customerID, beforeID, limit)
}
