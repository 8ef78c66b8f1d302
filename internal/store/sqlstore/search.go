package sqlstore

import (
	"context"
	"database/sql"

	"github.com/acme/crm/internal/crm"
)

// reindex recomputes the search text of customers from their current name,
// primary e-mail and phone and company, and hands it to the engine's index.
func (s *Store) reindex(ctx context.Context, ids ...int64) error {
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		type row struct {
			id   int64
			text string
		}
		rows, err := queryList(ctx, s.wq(), func(r *sql.Rows) (row, error) {
			var x row
			var name, email, phone string
			var company sql.NullString
			err := r.Scan(&x.id, &name, &email, &phone, &company)
			x.text = crm.SearchText(name, email, phone, company.String)
			return x, err
		}, `SELECT c.id, c.full_name, c.primary_email, c.primary_phone, co.name FROM customers c
		    LEFT JOIN companies co ON co.id = c.company_id WHERE c.id IN `+placeholders(1, len(args)), args...)
		if err != nil {
			return err
		}
		for _, x := range rows {
			if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET search_text = $2 WHERE id = $1`, x.id, x.text); err != nil {
				return err
			}
			if err := s.d.IndexSearch(ctx, s.wq(), x.id, x.text); err != nil {
				return err
			}
		}
	}
	return nil
}

// reindexCompany recomputes the search text of every customer of a company (after a rename).
func (s *Store) reindexCompany(ctx context.Context, companyID int64) error {
	var after int64
	for {
		ids, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT id FROM customers WHERE company_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, companyID, after)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := s.reindex(ctx, ids...); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
}

// BackfillSearch indexes customers whose search text was never written (rows
// that predate search); it runs at open and does nothing on a current database.
func (s *Store) BackfillSearch(ctx context.Context) error {
	for {
		ids, err := queryList(ctx, s.w, func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT id FROM customers WHERE search_text = '' LIMIT 1000`)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := s.inTx(ctx, func(tx *Store) error { return tx.reindex(ctx, ids...) }); err != nil {
			return err
		}
	}
}

// searchCondition is the WHERE condition of a search, or "" when nothing
// searchable was typed.
func (s *Store) searchCondition(q string, next int) (string, []any) {
	terms := crm.SearchTerms(q)
	if len(terms) == 0 {
		return "", nil
	}
	return s.d.SearchCondition(terms, next)
}
