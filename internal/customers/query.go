package customers

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Limits on a list query.
const (
	MaxLimit    = 500
	MaxTags     = 50
	MaxListVals = 50
	MaxQ        = 200
	// MaxSelection bounds a selection named by ids in a URL.
	MaxSelection = 1000
)

// QueryKeys are the query parameters of the customer list, in the contract's
// spelling; every surface (page, API, export, bulk) parses them with ParseQuery.
var QueryKeys = []string{"q", "owner", "tag", "tag_mode", "segment", "company", "country", "language", "has_inbound",
	"score_product", "score_min", "score_max", "created_from", "created_to", "archived", "sort", "limit", "cursor", "before", "id"}

// ParseQuery turns list parameters into a query, checking every value; it
// refuses (never ignores) what it does not understand. "me" resolves to actor.
func (s *Service) ParseQuery(ctx context.Context, actor *crm.User, v url.Values) (crm.CustomerQuery, error) {
	var q crm.CustomerQuery
	var fe crm.FieldErrors
	f := &q.Filter

	for key := range v {
		if !slices.Contains(QueryKeys, key) {
			fe.Add(key, "is not a filter (use %s)", strings.Join(QueryKeys, ", "))
		}
	}
	f.Q = strings.TrimSpace(v.Get("q"))
	if len([]rune(f.Q)) > MaxQ {
		fe.Add("q", "The search is longer than %d characters.", MaxQ)
	}

	switch owner := strings.TrimSpace(v.Get("owner")); owner {
	case "", "any":
	case "me":
		f.Owner, f.OwnerID = crm.OwnerMe, actor.ID
	case "none":
		f.Owner = crm.OwnerNone
	default:
		id, err := strconv.ParseInt(owner, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("owner", "%q is not an owner: use me, none or a user's id.", owner)
			break
		}
		if _, err := s.Store.GetUser(ctx, id); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return q, err
			}
			fe.Add("owner", "No user has the id %d.", id)
			break
		}
		f.Owner, f.OwnerID = "user", id
	}

	for _, t := range v["tag"] {
		for _, name := range strings.Split(t, ",") {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(f.Tags, name) {
				f.Tags = append(f.Tags, name)
			}
		}
	}
	if len(f.Tags) > MaxTags {
		fe.Add("tag", "Filter by at most %d tags.", MaxTags)
	}
	switch v.Get("tag_mode") {
	case "", "any":
	case "all":
		f.TagsAll = true
	default:
		fe.Add("tag_mode", "Match any or all of the tags, not %q.", v.Get("tag_mode"))
	}

	if seg := strings.TrimSpace(v.Get("segment")); seg != "" {
		id, err := strconv.ParseInt(seg, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("segment", "%q is not a segment.", seg)
		} else if _, err := s.Store.GetSegment(ctx, id); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return q, err
			}
			fe.Add("segment", "No segment has the id %d; it may have been deleted.", id)
		} else {
			f.SegmentID = id
		}
	}

	companies := splitList(v["company"])
	if len(companies) > MaxListVals {
		fe.Add("company", "Filter by at most %d companies.", MaxListVals)
		companies = nil
	}
	for _, co := range companies {
		id, err := strconv.ParseInt(co, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("company", "%q is not a company.", co)
		} else if _, err := s.Store.GetCompany(ctx, id); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return q, err
			}
			fe.Add("company", "No company has the id %d.", id)
		} else if !slices.Contains(f.CompanyIDs, id) {
			f.CompanyIDs = append(f.CompanyIDs, id)
		}
	}
	for _, c := range splitList(v["country"]) {
		code, err := crm.NormalizeCountry(c)
		if err != nil {
			fe.Add("country", "%q is not a country code or name.", c)
			continue
		}
		f.Countries = append(f.Countries, code)
	}
	for _, l := range splitList(v["language"]) {
		code, err := crm.NormalizeLanguage(l)
		if err != nil {
			fe.Add("language", "%q is not a language code or name.", l)
			continue
		}
		f.Languages = append(f.Languages, code)
	}
	if len(f.Countries) > MaxListVals || len(f.Languages) > MaxListVals {
		fe.Add("country", "Filter by at most %d countries or languages.", MaxListVals)
	}

	switch hi := v.Get("has_inbound"); hi {
	case "":
	case "true", "yes":
		f.HasInbound = ptr(true)
	case "false", "no":
		f.HasInbound = ptr(false)
	default:
		fe.Add("has_inbound", "Has inbound is yes or no, not %q.", hi)
	}

	f.ScoreProduct = strings.TrimSpace(v.Get("score_product"))
	f.ScoreMin = scoreParam(v, "score_min", &fe)
	f.ScoreMax = scoreParam(v, "score_max", &fe)
	if f.ScoreMin != nil && f.ScoreMax != nil && *f.ScoreMin > *f.ScoreMax {
		fe.Add("score_min", "The minimum score is higher than the maximum (%d > %d).", *f.ScoreMin, *f.ScoreMax)
	}
	if f.ScoreProduct != "" {
		products, err := s.Store.ListProducts(ctx)
		if err != nil {
			return q, err
		}
		if !slices.ContainsFunc(products, func(p crm.Product) bool { return p.Key == f.ScoreProduct }) {
			fe.Add("score_product", "%q is not a product.", f.ScoreProduct)
		}
	} else if f.ScoreMin != nil || f.ScoreMax != nil {
		fe.Add("score_product", "Choose the product whose score to filter on.")
	}

	f.CreatedFrom = dateParam(v, "created_from", &fe)
	if to := dateParam(v, "created_to", &fe); to != nil {
		end := to.AddDate(0, 0, 1) // inclusive date: up to the start of the next day
		f.CreatedTo = &end
		if f.CreatedFrom != nil && f.CreatedFrom.After(*to) {
			fe.Add("created_from", "The first date is after the last date.")
		}
	}

	switch a := v.Get("archived"); a {
	case "", "false", "active":
		f.Archived = crm.ArchivedActive
	case "true", "archived":
		f.Archived = crm.ArchivedOnly
	case "all":
		f.Archived = crm.ArchivedAll
	default:
		fe.Add("archived", "Status is active, archived or all, not %q.", a)
	}

	for _, raw := range splitList(v["id"]) { // a selection
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("id", "%q is not a customer id", raw)
			continue
		}
		f.IDs = append(f.IDs, id)
	}
	if len(f.IDs) > MaxSelection {
		fe.Add("id", "at most %d selected customers; use a filter for more", MaxSelection)
	}
	q.Sort = strings.TrimSpace(v.Get("sort"))
	if key := strings.TrimPrefix(q.Sort, "-"); q.Sort != "" && !slices.Contains(crm.SortKeys, key) {
		fe.Add("sort", "%q is not a sortable column (use %s, with - for descending)", key, strings.Join(crm.SortKeys, ", "))
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			fe.Add("limit", "%q is not a number from 1 to %d", l, MaxLimit)
		}
		q.Limit = n
	}
	q.Cursor = v.Get("cursor")
	q.Before = v.Get("before") == "true" || v.Get("before") == "1"
	return q, fe.Err()
}

// QueryValues is the inverse of ParseQuery for a filter: the canonical URL
// parameters, so links keep the view.
func QueryValues(q crm.CustomerQuery, actor *crm.User) url.Values {
	v := url.Values{}
	f := q.Filter
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	switch f.Owner {
	case crm.OwnerMe:
		v.Set("owner", "me")
	case crm.OwnerNone:
		v.Set("owner", "none")
	case "user":
		if actor != nil && f.OwnerID == actor.ID {
			v.Set("owner", "me")
		} else {
			v.Set("owner", strconv.FormatInt(f.OwnerID, 10))
		}
	}
	for _, t := range f.Tags {
		v.Add("tag", t)
	}
	if f.TagsAll {
		v.Set("tag_mode", "all")
	}
	if f.SegmentID != 0 {
		v.Set("segment", strconv.FormatInt(f.SegmentID, 10))
	}
	for _, id := range f.CompanyIDs {
		v.Add("company", strconv.FormatInt(id, 10))
	}
	for _, c := range f.Countries {
		v.Add("country", c)
	}
	for _, l := range f.Languages {
		v.Add("language", l)
	}
	if f.HasInbound != nil {
		v.Set("has_inbound", strconv.FormatBool(*f.HasInbound))
	}
	if f.ScoreProduct != "" {
		v.Set("score_product", f.ScoreProduct)
	}
	if f.ScoreMin != nil {
		v.Set("score_min", strconv.Itoa(*f.ScoreMin))
	}
	if f.ScoreMax != nil {
		v.Set("score_max", strconv.Itoa(*f.ScoreMax))
	}
	if f.CreatedFrom != nil {
		v.Set("created_from", f.CreatedFrom.Format(time.DateOnly))
	}
	if f.CreatedTo != nil {
		v.Set("created_to", f.CreatedTo.AddDate(0, 0, -1).Format(time.DateOnly))
	}
	switch f.Archived {
	case crm.ArchivedOnly:
		v.Set("archived", "true")
	case crm.ArchivedAll:
		v.Set("archived", "all")
	}
	for _, id := range f.IDs {
		v.Add("id", strconv.FormatInt(id, 10))
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	return v
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func scoreParam(v url.Values, key string, fe *crm.FieldErrors) *int {
	s := strings.TrimSpace(v.Get(key))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100 {
		fe.Add(key, "%q is not a score: scores go from 0 to 100.", s)
		return nil
	}
	return &n
}

func dateParam(v url.Values, key string, fe *crm.FieldErrors) *time.Time {
	s := strings.TrimSpace(v.Get(key))
	if s == "" {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil {
		fe.Add(key, "%q is not a date (use YYYY-MM-DD).", s)
		return nil
	}
	return &t
}

func ptr[T any](v T) *T { return &v }

// List returns one page of customers matching the query.
func (s *Service) List(ctx context.Context, q crm.CustomerQuery) (*crm.CustomerPage, error) {
	return s.Store.FindCustomers(ctx, q)
}
