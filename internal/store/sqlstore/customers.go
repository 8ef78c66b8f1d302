package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

const customerCols = `c.id, c.full_name, c.first_name, c.last_name, c.primary_email, c.primary_phone,
	c.language, c.country, c.timezone, c.has_inbound, c.created_at, c.updated_at, c.archived_at, c.merged_into,
	co.id, co.name, u.id, u.name, u.email`

const customerFrom = ` FROM customers c LEFT JOIN companies co ON co.id = c.company_id LEFT JOIN users u ON u.id = c.owner_id`

func scanCustomer(row interface{ Scan(...any) error }) (*crm.Customer, error) {
	var c crm.Customer
	var archived sql.NullTime
	var merged, coID, uID sql.NullInt64
	var coName, uName, uEmail sql.NullString
	if err := row.Scan(&c.ID, &c.FullName, &c.FirstName, &c.LastName, &c.PrimaryEmail, &c.PrimaryPhone,
		&c.Language, &c.Country, &c.Timezone, &c.HasInbound, &c.CreatedAt, &c.UpdatedAt, &archived, &merged,
		&coID, &coName, &uID, &uName, &uEmail); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.ArchivedAt, c.MergedInto = timePtr(archived), int64Ptr(merged)
	if coID.Valid {
		c.Company = &crm.CompanyRef{ID: coID.Int64, Name: coName.String}
	}
	if uID.Valid {
		c.Owner = &crm.UserRef{ID: uID.Int64, Name: uName.String, Email: uEmail.String}
	}
	c.AvatarURL = crm.AvatarURL(c.PrimaryEmail)
	c.Tags, c.Segments = []string{}, []int64{}
	c.Scores, c.Custom = map[string]int{}, map[string]any{}
	return &c, nil
}

// CreateCustomer inserts a customer row (contacts, tags and the rest are added separately).
func (s *Store) CreateCustomer(ctx context.Context, n crm.NewCustomer) (id int64, err error) {
	err = s.inTx(ctx, func(tx *Store) error {
		id, err = tx.createCustomer(ctx, n)
		return err
	})
	return id, err
}

func (s *Store) createCustomer(ctx context.Context, n crm.NewCustomer) (int64, error) {
	var id int64
	at := ts(n.CreatedAt)
	company, err := s.currentCompany(ctx, n.CompanyID)
	if err != nil {
		return 0, err
	}
	err = s.wq().QueryRowContext(ctx,
		`INSERT INTO customers (full_name, first_name, last_name, name_key, company_id, owner_id, language, country, timezone, created_at, updated_at,
		                        company_key, owner_key)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, `+companyKeySQL("$5")+`, `+ownerKeySQL("$6")+`) RETURNING id`,
		n.FullName, n.FirstName, n.LastName, crm.NameKey(n.FullName), nullInt(company), nullInt(n.OwnerID),
		n.Language, n.Country, n.Timezone, at).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, s.reindex(ctx, id)
}

// GetCustomer returns one customer with everything that hangs off it.
func (s *Store) GetCustomer(ctx context.Context, id int64) (*crm.Customer, error) {
	cs, err := s.GetCustomers(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, crm.NotFound("customer")
	}
	return cs[0], nil
}

// GetCustomers returns whole customers, as GetCustomer does, for a list of
// ids, in id order; ids that are no customer are left out. It reads idChunk
// customers at a time, one query per table (idsIn).
func (s *Store) GetCustomers(ctx context.Context, ids []int64) ([]*crm.Customer, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]*crm.Customer, 0, len(ids))
	err := inChunks(ids, func(part []int64) error {
		in, args := s.idsIn(part)
		cs, err := queryList(ctx, s.lq(ctx), func(r *sql.Rows) (*crm.Customer, error) { return scanCustomer(r) }, `SELECT `+customerCols+customerFrom+` WHERE c.id IN `+in+` ORDER BY c.id`, args...)
		if err != nil || len(cs) == 0 {
			return err
		}
		if err := s.hydrate(ctx, cs); err != nil {
			return err
		}
		byID := make(map[int64]*crm.Customer, len(cs))
		for _, c := range cs {
			c.Contacts = []crm.Contact{}
			byID[c.ID] = c
		}
		contacts, err := queryList(ctx, s.lq(ctx), func(r *sql.Rows) (*crm.Contact, error) { return scanContact(r) }, `SELECT `+contactCols+contactFrom+
			` WHERE k.customer_id IN `+in+` AND k.removed_at IS NULL ORDER BY k.customer_id, `+channelOrder+`, k.is_primary DESC, k.id`, args...)
		if err != nil {
			return err
		}
		for _, k := range contacts {
			byID[k.CustomerID].Contacts = append(byID[k.CustomerID].Contacts, *k)
		}
		out = append(out, cs...)
		return nil
	})
	return out, err
}

// hydrate loads tags, segments, scores and custom values of a page of
// customers: four queries whatever the page size.
func (s *Store) hydrate(ctx context.Context, cs []*crm.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*crm.Customer, len(cs))
	ids := make([]int64, len(cs))
	for i, c := range cs {
		byID[c.ID] = c
		ids[i] = c.ID
	}
	in, args := s.idsIn(ids)
	type loader struct {
		sql  string
		scan func(rows *sql.Rows) error
	}
	loaders := []loader{
		{`SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id IN ` + in + ` ORDER BY t.name_key`,
			func(rows *sql.Rows) error {
				var id int64
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					return err
				}
				byID[id].Tags = append(byID[id].Tags, name)
				return nil
			}},
		{`SELECT customer_id, segment_id FROM segment_members WHERE customer_id IN ` + in + ` ORDER BY segment_id`,
			func(rows *sql.Rows) error {
				var id, seg int64
				if err := rows.Scan(&id, &seg); err != nil {
					return err
				}
				byID[id].Segments = append(byID[id].Segments, seg)
				return nil
			}},
		{`SELECT cs.customer_id, p.key, cs.score FROM customer_scores cs JOIN products p ON p.id = cs.product_id WHERE cs.customer_id IN ` + in,
			func(rows *sql.Rows) error {
				var id int64
				var key string
				var score int
				if err := rows.Scan(&id, &key, &score); err != nil {
					return err
				}
				byID[id].Scores[key] = score
				return nil
			}},
		{`SELECT cv.customer_id, f.key, cv.value FROM custom_values cv JOIN custom_fields f ON f.id = cv.field_id WHERE cv.customer_id IN ` + in,
			func(rows *sql.Rows) error {
				var id int64
				var key, raw string
				if err := rows.Scan(&id, &key, &raw); err != nil {
					return err
				}
				var v any
				if err := json.Unmarshal([]byte(raw), &v); err != nil {
					return fmt.Errorf("custom value %s of customer %d: %w", key, id, err)
				}
				byID[id].Custom[key] = v
				return nil
			}},
	}
	for _, l := range loaders {
		rows, err := s.lq(ctx).QueryContext(ctx, l.sql, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := l.scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// idsIn is the list of ids for "IN", and its arguments. A few (a page of
// the table, one customer's drawer) are bound: the statement is the same
// for every list of that size, and is run again. More (an import's batch)
// are written as numbers, in a statement run once: binding thousands of
// arguments costs the SQLite driver a linear search each.
func (s *Store) idsIn(ids []int64) (string, []any) {
	if len(ids) > 500 {
		return inList(ids), s.once()
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(1, len(ids)), args
}

// placeholders returns "($from, $from+1, ...)" for n arguments.
func placeholders(from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	b.WriteByte(')')
	return b.String()
}

// UpdateCustomer applies a patch to identity fields.
func (s *Store) UpdateCustomer(ctx context.Context, id int64, p crm.CustomerPatch, now time.Time) error {
	sets := []string{"updated_at = $2"}
	args := []any{id, ts(now)}
	set := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if p.FullName != nil {
		set("full_name", *p.FullName)
		set("name_key", crm.NameKey(*p.FullName))
	}
	if p.FirstName != nil {
		set("first_name", *p.FirstName)
	}
	if p.LastName != nil {
		set("last_name", *p.LastName)
	}
	if p.Language != nil {
		set("language", *p.Language)
	}
	if p.Country != nil {
		set("country", *p.Country)
	}
	if p.Timezone != nil {
		set("timezone", *p.Timezone)
	}
	return s.inTx(ctx, func(tx *Store) error {
		if p.CompanyID != nil {
			// the company the customer leaves is locked with the one it joins
			var leaves sql.NullInt64
			if err := tx.wq().QueryRowContext(ctx, `SELECT company_id FROM customers WHERE id = $1`, id).Scan(&leaves); err != nil {
				return notFound(err, "customer")
			}
			var also []int64
			if leaves.Valid {
				also = append(also, leaves.Int64)
			}
			company, err := tx.currentCompany(ctx, *p.CompanyID, also...)
			if err != nil {
				return err
			}
			set("company_id", nullInt(company))
			sets = append(sets, "company_key = "+companyKeySQL(fmt.Sprintf("$%d", len(args))))
		}
		if err := tx.exec1(ctx, "customer", `UPDATE customers SET `+strings.Join(sets, ", ")+` WHERE id = $1`, args...); err != nil {
			return err
		}
		if p.FullName != nil || p.CompanyID != nil {
			return tx.reindex(ctx, id)
		}
		return nil
	})
}

// companyKeySQL and ownerKeySQL are the sort keys of a customer's company
// and owner (migration 00015) for the company or user id in param: their
// name_key, ” for none. Every statement that writes company_id or owner_id
// writes the key beside it (a rename writes its customers' keys).
func companyKeySQL(param string) string {
	return "COALESCE((SELECT co.name_key FROM companies co WHERE co.id = " + param + "), '')"
}

func ownerKeySQL(param string) string {
	return "COALESCE((SELECT u.name_key FROM users u WHERE u.id = " + param + "), '')"
}

// setOwnerKeys writes a user's name key as the owner sort key of their customers.
func (s *Store) setOwnerKeys(ctx context.Context, userID int64, key string) error {
	_, err := s.wq().ExecContext(ctx, `UPDATE customers SET owner_key = $2 WHERE owner_id = $1 AND owner_key <> $2`, userID, key)
	return err
}

// SetOwner is the conditional owner change behind claim and friends: one
// UPDATE whose WHERE holds the expectation, so of concurrent claims exactly one wins.
func (s *Store) SetOwner(ctx context.Context, id int64, owner *int64, expect crm.OwnerExpectation, now time.Time) (bool, error) {
	q := `UPDATE customers SET owner_id = $2, owner_key = ` + ownerKeySQL("$2") + `, updated_at = $3 WHERE id = $1`
	args := []any{id, nullInt(owner), ts(now)}
	switch {
	case expect.Any:
	case expect.UserID == nil:
		q += ` AND owner_id IS NULL`
	default:
		q += ` AND owner_id = $4`
		args = append(args, *expect.UserID)
	}
	res, err := s.wq().ExecContext(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		var one int
		if err := s.wq().QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, id).Scan(&one); err != nil {
			return false, notFound(err, "customer")
		}
	}
	return n > 0, nil
}

// SetArchived archives (archivedAt set) or restores (nil) a customer, recording a merge target.
func (s *Store) SetArchived(ctx context.Context, id int64, archivedAt *time.Time, mergedInto *int64, now time.Time) error {
	return s.exec1(ctx, "customer",
		`UPDATE customers SET archived_at = $2, merged_into = $3, updated_at = $4 WHERE id = $1`,
		id, tsp(archivedAt), nullInt(mergedInto), ts(now))
}

func (s *Store) touch(ctx context.Context, customerID int64, now time.Time) error {
	return s.exec1(ctx, "customer", `UPDATE customers SET updated_at = $2 WHERE id = $1`, customerID, ts(now))
}

func (s *Store) AddCustomerTags(ctx context.Context, customerID int64, tagIDs []int64, now time.Time) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *Store) error {
		for _, tid := range tagIDs {
			res, err := tx.wq().ExecContext(ctx,
				`INSERT INTO customer_tags (customer_id, tag_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				customerID, tid, ts(now))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		if added > 0 {
			return tx.touch(ctx, customerID, now)
		}
		return nil
	})
	return added, err
}

func (s *Store) RemoveCustomerTag(ctx context.Context, customerID, tagID int64, now time.Time) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(tx *Store) error {
		res, err := tx.wq().ExecContext(ctx, `DELETE FROM customer_tags WHERE customer_id = $1 AND tag_id = $2`, customerID, tagID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if removed = n > 0; removed {
			return tx.touch(ctx, customerID, now)
		}
		return nil
	})
	return removed, err
}

func (s *Store) SetScore(ctx context.Context, customerID, productID int64, score *int, now time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		var err error
		if score == nil {
			_, err = tx.wq().ExecContext(ctx, `DELETE FROM customer_scores WHERE customer_id = $1 AND product_id = $2`, customerID, productID)
		} else {
			_, err = tx.wq().ExecContext(ctx,
				`INSERT INTO customer_scores (customer_id, product_id, score) VALUES ($1, $2, $3)
				 ON CONFLICT (customer_id, product_id) DO UPDATE SET score = excluded.score`, customerID, productID, *score)
		}
		if err != nil {
			return err
		}
		return tx.touch(ctx, customerID, now)
	})
}

func (s *Store) SetCustomValue(ctx context.Context, customerID, fieldID int64, jsonValue *string, now time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		var err error
		if jsonValue == nil {
			_, err = tx.wq().ExecContext(ctx, `DELETE FROM custom_values WHERE customer_id = $1 AND field_id = $2`, customerID, fieldID)
		} else {
			_, err = tx.wq().ExecContext(ctx,
				`INSERT INTO custom_values (customer_id, field_id, value) VALUES ($1, $2, $3)
				 ON CONFLICT (customer_id, field_id) DO UPDATE SET value = excluded.value`, customerID, fieldID, *jsonValue)
		}
		if err != nil {
			return err
		}
		return tx.touch(ctx, customerID, now)
	})
}

// chunk is how many ids one statement carries (well under both engines' parameter limits).
const chunk = 500

func (s *Store) AddSegmentMembers(ctx context.Context, segmentID int64, customerIDs []int64, now time.Time) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *Store) error {
		return inChunks(customerIDs, func(part []int64) error {
			res, err := tx.wq().ExecContext(ctx, `INSERT INTO segment_members (segment_id, customer_id, added_at)
				SELECT $1, c.id, $2 FROM customers c WHERE c.id IN `+inList(part)+` ON CONFLICT DO NOTHING`, s.once(segmentID, ts(now))...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			added += int(n)
			return nil
		})
	})
	return added, err
}

func (s *Store) RemoveSegmentMembers(ctx context.Context, segmentID int64, customerIDs []int64) (int, error) {
	removed := 0
	err := s.inTx(ctx, func(tx *Store) error {
		return inChunks(customerIDs, func(part []int64) error {
			res, err := tx.wq().ExecContext(ctx, `DELETE FROM segment_members WHERE segment_id = $1 AND customer_id IN `+inList(part), s.once(segmentID)...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			removed += int(n)
			return nil
		})
	})
	return removed, err
}
