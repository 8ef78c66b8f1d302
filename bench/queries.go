package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
)

// query is one list request of the table.
type query struct {
	name   string
	params url.Values
	search bool // searches have their own target
	// deep: the cursor of this page is found by walking pages pages of
	// params first, once; then that page is timed.
	deep int
}

// fixtures are the values the queries use, read from the seeded data so that
// every filter names something that exists.
type fixtures struct {
	n          int      // customers
	member     crm.User // an active member who owns customers
	tag, tag2  string   // two tags of medium frequency
	segment    int64
	product    string
	monthFrom  string // YYYY-MM-DD, a whole calendar month in the middle of the data
	monthTo    string
	email      string // the primary e-mail of the customer in the middle
	namePrefix string // "maria sch": a first name plus 3 letters of a last name
	lastPrefix string // 4 letters of a last name
}

func loadFixtures(ctx context.Context, db *store.DB, n int) (*fixtures, error) {
	fx := fixtures{n: n}
	users, err := db.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Role == crm.RoleMember && u.Active {
			fx.member = u
			break
		}
	}
	if fx.member.ID == 0 {
		return nil, fmt.Errorf("the database has no active member")
	}
	tags, err := db.ListTags(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]bool{}
	for _, t := range tags {
		byName[t.Name] = true
	}
	// VIP and Partner are the 9th and 6th most used of the seed's tags (about
	// 4% and 6% of the customers): a filter that narrows a lot, but not to nothing.
	fx.tag, fx.tag2 = "VIP", "Partner"
	if !byName[fx.tag] || !byName[fx.tag2] {
		if len(tags) < 2 {
			return nil, fmt.Errorf("the database has fewer than two tags")
		}
		fx.tag, fx.tag2 = tags[len(tags)/2].Name, tags[len(tags)/2+1].Name
	}
	segs, err := db.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("the database has no segments")
	}
	fx.segment = segs[0].ID
	for _, s := range segs {
		if s.Name == "Trial users" { // a segment of middle size (about 2% of the customers)
			fx.segment = s.ID
		}
	}
	prods, err := db.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	if len(prods) == 0 {
		return nil, fmt.Errorf("the database has no products")
	}
	fx.product = prods[0].Key

	var minID int64
	if err := db.SQL.QueryRowContext(ctx, `SELECT min(id) FROM customers`).Scan(&minID); err != nil {
		return nil, err
	}
	mid := minID + int64(n/2)
	var created time.Time
	if err := db.SQL.QueryRowContext(ctx, `SELECT primary_email, created_at FROM customers WHERE id >= $1 AND primary_email <> '' ORDER BY id LIMIT 1`, mid).
		Scan(&fx.email, &created); err != nil {
		return nil, fmt.Errorf("the customer in the middle: %w", err)
	}
	first := time.Date(created.Year(), created.Month(), 1, 0, 0, 0, 0, time.UTC)
	fx.monthFrom = first.Format(time.DateOnly)
	fx.monthTo = first.AddDate(0, 1, -1).Format(time.DateOnly)
	// The example, "maria sch": a common first name and the first
	// three letters of the last name of a customer in the middle who has it;
	// and the start of a common last name alone.
	fx.namePrefix, fx.lastPrefix = "maria sch", "schm"
	var last string
	err = db.SQL.QueryRowContext(ctx, `SELECT last_name FROM customers WHERE id >= $1 AND first_name IN ('María', 'Maria') ORDER BY id LIMIT 1`, mid).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if t := crm.SearchTerms(last); len(t) > 0 && len([]rune(t[0])) >= 3 {
		fx.namePrefix = "maria " + string([]rune(t[0])[:3])
	}
	return &fx, nil
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// queries is the table's list of requests, top to bottom.
func (fx *fixtures) queries() []query {
	owner := strconv.FormatInt(fx.member.ID, 10)
	// page 1,000 of 50 customers, or the last pages of a smaller database
	deep := max(1, min(999, fx.n*9/10/50))
	return []query{
		{name: "first page (default order: newest first)", params: vals()},
		{name: "page " + group(deep+1) + " by cursor", params: vals(), deep: deep},
		{name: "owner=me", params: vals("owner", "me")},
		{name: "owner=none", params: vals("owner", "none")},
		{name: "owner=" + owner + " (" + fx.member.Name + ")", params: vals("owner", owner)},
		{name: "tag=" + fx.tag, params: vals("tag", fx.tag)},
		{name: "tag=" + fx.tag + "&tag=" + fx.tag2 + " (any)", params: vals("tag", fx.tag, "tag", fx.tag2)},
		{name: "tag=" + fx.tag + "&tag=" + fx.tag2 + "&tag_mode=all", params: vals("tag", fx.tag, "tag", fx.tag2, "tag_mode", "all")},
		{name: "segment=" + strconv.FormatInt(fx.segment, 10), params: vals("segment", strconv.FormatInt(fx.segment, 10))},
		{name: "country=DE", params: vals("country", "DE")},
		{name: "language=de", params: vals("language", "de")},
		{name: "has_inbound=true", params: vals("has_inbound", "true")},
		{name: "has_inbound=false", params: vals("has_inbound", "false")},
		{name: "score_product=" + fx.product + "&score_min=40&score_max=60", params: vals("score_product", fx.product, "score_min", "40", "score_max", "60")},
		{name: "created " + fx.monthFrom + " to " + fx.monthTo, params: vals("created_from", fx.monthFrom, "created_to", fx.monthTo)},
		{name: "archived=true", params: vals("archived", "true")},
		{name: "owner=none&country=DE&has_inbound=false", params: vals("owner", "none", "country", "DE", "has_inbound", "false")},
		{name: `search "` + fx.namePrefix + `"`, params: vals("q", fx.namePrefix), search: true},
		{name: `search "` + fx.lastPrefix + `"`, params: vals("q", fx.lastPrefix), search: true},
		{name: "search an e-mail (" + fx.email + ")", params: vals("q", fx.email), search: true},
		{name: "sort=name", params: vals("sort", "name")},
		{name: "sort=-email", params: vals("sort", "-email")},
		{name: "sort=company", params: vals("sort", "company")},
		{name: "sort=-company", params: vals("sort", "-company")},
		{name: "sort=owner", params: vals("sort", "owner")},
		{name: "sort=-owner", params: vals("sort", "-owner")},
		{name: "sort=score", params: vals("sort", "score")},
		{name: "sort=-score", params: vals("sort", "-score")},
		{name: "sort=-score&owner=me", params: vals("sort", "-score", "owner", "me")},
		{name: "sort=score&owner=me", params: vals("sort", "score", "owner", "me")},
		{name: "sort=company&country=DE", params: vals("sort", "company", "country", "DE")},
		{name: "sort=email (empties last)", params: vals("sort", "email")},
		{name: "sort=-country", params: vals("sort", "-country")},
		{name: "sort=language", params: vals("sort", "language")},
	}
}
