package sqlstore

import (
	"context"
	"database/sql"
	"errors"

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
// Then, when the search text was folded by another crm.FoldVersion than this
// program's (app_settings "search_fold"), it folds it anew (refold).
func (s *Store) BackfillSearch(ctx context.Context) error {
	for {
		ids, err := queryList(ctx, s.w, func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT id FROM customers WHERE search_text = '' LIMIT 1000`)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if err := s.inTx(ctx, func(tx *Store) error { return tx.reindex(ctx, ids...) }); err != nil {
			return err
		}
	}
	return s.refold(ctx)
}

// foldSetting holds the crm.FoldVersion the stored search text and name keys
// were written with; migration 00015 removes it, so that the next open folds
// every customer's search text again in Go (SQL cannot fold as crm.Fold does).
const foldSetting = "search_fold"

// refold rewrites, when foldSetting is not crm.FoldVersion, the search text of
// every customer whose text the current folding writes differently (a
// thousand customers per transaction, by id; only changed rows are written,
// so a database of plain ASCII names is read once and barely written), and
// the users' name keys that SQL's lower() folded differently from
// crm.NameKey, with their customers' owner sort keys.
func (s *Store) refold(ctx context.Context) error {
	var v string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM app_settings WHERE key = $1`, foldSetting).Scan(&v)
	if err == nil && v == crm.FoldVersion {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	type user struct {
		id        int64
		name, key string
	}
	users, err := queryList(ctx, s.w, func(r *sql.Rows) (user, error) {
		var u user
		return u, r.Scan(&u.id, &u.name, &u.key)
	}, `SELECT id, name, name_key FROM users ORDER BY id`)
	if err != nil {
		return err
	}
	for _, u := range users {
		if k := crm.NameKey(u.name); k != u.key {
			if err := s.inTx(ctx, func(tx *Store) error {
				if _, err := tx.wq().ExecContext(ctx, `UPDATE users SET name_key = $2 WHERE id = $1`, u.id, k); err != nil {
					return err
				}
				return tx.setOwnerKeys(ctx, u.id, k)
			}); err != nil {
				return err
			}
		}
	}
	type row struct {
		id         int64
		text, want string
	}
	var after int64
	for {
		rows, err := queryList(ctx, s.w, func(r *sql.Rows) (row, error) {
			var x row
			var name, email, phone string
			var company sql.NullString
			err := r.Scan(&x.id, &name, &email, &phone, &company, &x.text)
			x.want = crm.SearchText(name, email, phone, company.String)
			return x, err
		}, `SELECT c.id, c.full_name, c.primary_email, c.primary_phone, co.name, c.search_text FROM customers c
		    LEFT JOIN companies co ON co.id = c.company_id WHERE c.id > $1 ORDER BY c.id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		after = rows[len(rows)-1].id
		if err := s.inTx(ctx, func(tx *Store) error {
			for _, x := range rows {
				if x.text == x.want {
					continue
				}
				if _, err := tx.wq().ExecContext(ctx, `UPDATE customers SET search_text = $2 WHERE id = $1`, x.id, x.want); err != nil {
					return err
				}
				if err := tx.d.IndexSearch(ctx, tx.wq(), x.id, x.want); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO app_settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, foldSetting, crm.FoldVersion)
	return err
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
