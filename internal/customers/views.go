package customers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Limits on a saved view.
const (
	MaxViewName    = 80
	MaxViewColumns = 100
	MaxViewQuery   = 8000
)

// PagingKeys are the list parameters that say where in the list a page is,
// not which customers: a view never keeps them.
var PagingKeys = []string{"cursor", "before", "limit"}

// ViewInput creates or changes a view; nil fields are left as they are.
type ViewInput struct {
	Name         *string
	Shared       *bool
	Query        *string // a list query string; normalised (ViewQuery)
	Columns      *[]string
	ScoreProduct *string
}

// ViewQuery is the canonical query string a view keeps: the parsed filter,
// search and sort written back (QueryValues), without the paging state.
// "owner=me" stays "me": a shared "my customers" view is each reader's own.
func ViewQuery(q crm.CustomerQuery) string {
	return QueryValues(q, nil).Encode()
}

// Views lists the views the actor may see: theirs and the shared ones.
func (s *Service) Views(ctx context.Context, actor *crm.User) ([]crm.SavedView, error) {
	return s.Store.ListViews(ctx, actor.ID)
}

// View returns one view the actor may see; a teammate's personal view is
// not found, as if it did not exist.
func (s *Service) View(ctx context.Context, actor *crm.User, id int64) (*crm.SavedView, error) {
	return s.Store.GetView(ctx, id, actor.ID)
}

// mayChange is the rule of who changes a view: its owner, or an admin for a
// shared view (a personal view is not found for anyone else).
func mayChange(actor *crm.User, v *crm.SavedView) error {
	if v.Owner.ID == actor.ID || actor.IsAdmin() && v.Shared {
		return nil
	}
	return crm.Forbidden("Only %s, who made the view %q, or an admin may change it.", v.Owner.Name, v.Name)
}

// CreateView saves a new view owned by the actor.
func (s *Service) CreateView(ctx context.Context, actor *crm.User, in ViewInput) (*crm.SavedView, error) {
	v := &crm.SavedView{Owner: crm.UserRef{ID: actor.ID, Name: actor.Name, Email: actor.Email}, Columns: []string{}, CreatedAt: s.now()}
	if in.Name == nil {
		in.Name = new(string)
	}
	if err := s.applyView(ctx, actor, v, in); err != nil {
		return nil, err
	}
	if err := s.Store.CreateView(ctx, v); err != nil {
		return nil, nameConflict(err, v.Name)
	}
	return s.Store.GetView(ctx, v.ID, actor.ID)
}

// UpdateView renames, shares or unshares a view, or replaces its state.
func (s *Service) UpdateView(ctx context.Context, actor *crm.User, id int64, in ViewInput) (*crm.SavedView, error) {
	v, err := s.Store.GetView(ctx, id, actor.ID)
	if err != nil {
		return nil, err
	}
	if err := mayChange(actor, v); err != nil {
		return nil, err
	}
	if err := s.applyView(ctx, actor, v, in); err != nil {
		return nil, err
	}
	if !v.Shared && v.Owner.ID != actor.ID {
		return nil, crm.Invalid("shared", "Only %s may make their view personal.", v.Owner.Name)
	}
	if err := s.Store.UpdateView(ctx, v, actor.ID, s.now()); err != nil {
		return nil, nameConflict(err, v.Name)
	}
	return s.Store.GetView(ctx, v.ID, actor.ID)
}

// DuplicateView copies a view the actor may see into a new personal view of
// theirs, named name (or "Copy of ..." when empty).
func (s *Service) DuplicateView(ctx context.Context, actor *crm.User, id int64, name string) (*crm.SavedView, error) {
	v, err := s.Store.GetView(ctx, id, actor.ID)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		name = "Copy of " + v.Name
		if utf8.RuneCountInString(name) > MaxViewName {
			name = string([]rune(name)[:MaxViewName])
		}
	}
	shared, cols := false, slices.Clone(v.Columns)
	return s.CreateView(ctx, actor, ViewInput{Name: &name, Shared: &shared, Query: &v.Query, Columns: &cols, ScoreProduct: &v.ScoreProduct})
}

// DeleteView removes a view (its owner, or an admin for a shared view).
func (s *Service) DeleteView(ctx context.Context, actor *crm.User, id int64) error {
	v, err := s.Store.GetView(ctx, id, actor.ID)
	if err != nil {
		return err
	}
	if err := mayChange(actor, v); err != nil {
		return err
	}
	return s.Store.DeleteView(ctx, id, actor.ID)
}

// PinView pins a view the actor may see to their own sidebar, or unpins it.
func (s *Service) PinView(ctx context.Context, actor *crm.User, id int64, pinned bool) error {
	if !pinned {
		if _, err := s.Store.GetView(ctx, id, actor.ID); err != nil {
			return err
		}
	}
	return s.Store.SetViewPin(ctx, actor.ID, id, pinned, s.now())
}

// SetDefaultView makes a view the one /crm/customers opens for the actor;
// 0 goes back to the plain table.
func (s *Service) SetDefaultView(ctx context.Context, actor *crm.User, id int64) error {
	return s.Store.SetDefaultView(ctx, actor.ID, id)
}

// DefaultView is the actor's default view, or nil.
func (s *Service) DefaultView(ctx context.Context, actor *crm.User) (*crm.SavedView, error) {
	v, err := s.Store.DefaultView(ctx, actor.ID)
	if errors.Is(err, crm.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

var columnKey = regexp.MustCompile(`^[a-z][a-z0-9_]*(:[A-Za-z0-9_.-]+)?$`)

// applyView checks the input and writes it into v; errors name their field.
func (s *Service) applyView(ctx context.Context, actor *crm.User, v *crm.SavedView, in ViewInput) error {
	var fe crm.FieldErrors
	if in.Name != nil {
		name := strings.Join(strings.Fields(*in.Name), " ")
		switch {
		case name == "":
			fe.Add("name", "Give the view a name.")
		case utf8.RuneCountInString(name) > MaxViewName:
			fe.Add("name", "A view's name has at most %d characters.", MaxViewName)
		}
		v.Name = name
	}
	if in.Shared != nil {
		v.Shared = *in.Shared
	}
	if in.Query != nil {
		raw := strings.TrimPrefix(strings.TrimSpace(*in.Query), "?")
		vals, err := url.ParseQuery(raw)
		switch {
		case len(raw) > MaxViewQuery:
			fe.Add("query", "The view's query is longer than %d characters.", MaxViewQuery)
		case err != nil:
			fe.Add("query", "The view's query is not a query string: %v", err)
		default:
			for _, k := range PagingKeys {
				vals.Del(k)
			}
			clean := url.Values{}
			for k, xs := range vals {
				for _, x := range xs {
					if strings.TrimSpace(x) != "" {
						clean.Add(k, x)
					}
				}
			}
			q, err := s.ParseQuery(ctx, actor, clean)
			var qe crm.FieldErrors
			if errors.As(err, &qe) {
				for _, e := range qe {
					fe.Add("query", "%s: %s", e.Field, e.Message)
				}
			} else if err != nil {
				return err
			}
			v.Query = ViewQuery(q)
		}
	}
	if in.Columns != nil {
		var cols []string
		for _, c := range *in.Columns {
			c = strings.TrimSpace(c)
			switch {
			case len(c) > 100 || !columnKey.MatchString(c):
				fe.Add("columns", "%q is not a column key.", c)
			case !slices.Contains(cols, c):
				cols = append(cols, c)
			}
		}
		if len(cols) > MaxViewColumns {
			fe.Add("columns", "A view shows at most %d columns.", MaxViewColumns)
		}
		v.Columns = cols
		if v.Columns == nil {
			v.Columns = []string{}
		}
	}
	if in.ScoreProduct != nil {
		p := strings.TrimSpace(*in.ScoreProduct)
		if p != "" {
			products, err := s.Store.ListProducts(ctx)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(products, func(x crm.Product) bool { return x.Key == p }) {
				fe.Add("score_product", "%q is not a product.", p)
			}
		}
		v.ScoreProduct = p
	}
	if v.Name != "" && fe.For("name") == "" {
		if msg, err := s.nameTaken(ctx, actor, v); err != nil {
			return err
		} else if msg != "" {
			fe.Add("name", "%s", msg)
		}
	}
	return fe.Err()
}

// nameTaken says why a view's name is taken: names are unique among one
// owner's views, and among shared views (the team's list never shows two
// views of one name), case-insensitively. The store's unique indexes hold
// the same rule against a race.
func (s *Service) nameTaken(ctx context.Context, actor *crm.User, v *crm.SavedView) (string, error) {
	views, err := s.Store.ListViews(ctx, actor.ID)
	if err != nil {
		return "", err
	}
	key := crm.NameKey(v.Name)
	for _, o := range views {
		if o.ID == v.ID || crm.NameKey(o.Name) != key {
			continue
		}
		if o.Owner.ID == v.Owner.ID {
			return fmt.Sprintf("There is already a view named %q; choose another name.", o.Name), nil
		}
		if o.Shared && v.Shared {
			return fmt.Sprintf("%s already shares a view named %q; choose another name.", o.Owner.Name, o.Name), nil
		}
	}
	return "", nil
}

// nameConflict turns the store's name clash (a race the check missed) into
// an error beside the name field.
func nameConflict(err error, name string) error {
	if crm.CodeOf(err) == crm.CodeConflict {
		return crm.FieldErrors{crm.Invalid("name", "There is already a view named %q; choose another name.", name)}
	}
	return err
}

// Missing is a condition of a view whose tag, segment, user, company or
// product no longer exists (or whose user was deactivated): shown as such,
// and the view matches nobody through it.
type Missing struct {
	Key   string // the list parameter
	Value string // its value as saved
	Label string // what the chip says
}

// OpenQuery parses the list parameters of a saved view (or of the table
// with a view open). Unlike ParseQuery it does not refuse a segment, owner,
// company or product that has gone since the view was saved: the query then
// matches nobody (Filter.None) and each such condition is reported as
// missing. Tags are names: one that no longer exists matches nobody through
// it in the store (with "any", the other tags still count). Its reads are
// those of ParseQuery, plus one for the tag names.
func (s *Service) OpenQuery(ctx context.Context, actor *crm.User, v url.Values) (crm.CustomerQuery, []Missing, error) {
	v = cloneVals(v)
	var missing []Missing
	none := false
	drop := func(key, value, label string) {
		missing = append(missing, Missing{Key: key, Value: value, Label: label})
		v[key] = slices.DeleteFunc(v[key], func(x string) bool { return strings.TrimSpace(x) == value })
		if len(v[key]) == 0 {
			delete(v, key)
		}
	}
	if o := strings.TrimSpace(v.Get("owner")); o != "" {
		if id, err := strconv.ParseInt(o, 10, 64); err == nil && id > 0 {
			u, err := s.Store.GetUser(ctx, id)
			switch {
			case errors.Is(err, crm.ErrNotFound):
				drop("owner", o, "Owner: (deleted user)")
				none = true
			case err != nil:
				return crm.CustomerQuery{}, nil, err
			case !u.Active:
				missing = append(missing, Missing{Key: "owner", Value: o, Label: "Owner: " + u.Name + " (deactivated)"})
			}
		}
	}
	segment := int64(0) // checked here without GetSegment's member counts
	if sg := strings.TrimSpace(v.Get("segment")); sg != "" {
		if id, err := strconv.ParseInt(sg, 10, 64); err == nil && id > 0 {
			ok, err := s.Store.SegmentExists(ctx, id)
			switch {
			case err != nil:
				return crm.CustomerQuery{}, nil, err
			case !ok:
				drop("segment", sg, "Segment: (deleted)")
				none = true
			default:
				segment = id
				delete(v, "segment")
			}
		}
	}
	for _, co := range splitList(v["company"]) {
		if id, err := strconv.ParseInt(co, 10, 64); err == nil && id > 0 {
			if _, err := s.Store.GetCompany(ctx, id); errors.Is(err, crm.ErrNotFound) {
				drop("company", co, "Company: (deleted)")
				none = true
			} else if err != nil {
				return crm.CustomerQuery{}, nil, err
			}
		}
	}
	if p := strings.TrimSpace(v.Get("score_product")); p != "" {
		products, err := s.Store.ListProducts(ctx)
		if err != nil {
			return crm.CustomerQuery{}, nil, err
		}
		if !slices.ContainsFunc(products, func(x crm.Product) bool { return x.Key == p }) {
			drop("score_product", p, "Score product: "+p+" (removed)")
			if v.Get("score_min") != "" || v.Get("score_max") != "" { // a range on it: nobody
				for _, k := range []string{"score_min", "score_max"} {
					if x := strings.TrimSpace(v.Get(k)); x != "" {
						missing = append(missing, Missing{Key: k, Value: x})
						delete(v, k)
					}
				}
				none = true
			}
		}
	}
	q, err := s.ParseQuery(ctx, actor, v)
	if err != nil {
		return q, missing, err
	}
	if segment != 0 {
		q.Filter.SegmentID = segment
	}
	if len(q.Filter.Tags) > 0 {
		found, err := s.Store.TagsNamed(ctx, q.Filter.Tags)
		if err != nil {
			return q, missing, err
		}
		for _, t := range q.Filter.Tags {
			if !slices.Contains(found, crm.NameKey(t)) {
				missing = append(missing, Missing{Key: "tag", Value: t, Label: "Tag: " + t + " (deleted)"})
			}
		}
	}
	q.Filter.None = none
	return q, missing, nil
}

func cloneVals(v url.Values) url.Values {
	out := url.Values{}
	for k, xs := range v {
		out[k] = slices.Clone(xs)
	}
	return out
}

// ViewCount is the live count of a view for the sidebar.
type ViewCount struct {
	Total int  `json:"total"`
	Exact bool `json:"exact"`
}

// viewCounts caches counts briefly: the sidebar asks on every page.
type viewCounts struct {
	mu sync.Mutex
	m  map[string]cachedCount
}

type cachedCount struct {
	c  ViewCount
	at time.Time
}

// CountTTL is how long a view's count is reused (the benchmark sets 0 to time cold counts).
var CountTTL = 10 * time.Second

var counts = viewCounts{m: map[string]cachedCount{}}

// CountViews counts each view's customers for the actor (owner=me is the
// actor's), with the list's own count, the views side by side; a view whose
// query no longer parses counts nobody. Counts are reused for CountTTL.
func (s *Service) CountViews(ctx context.Context, actor *crm.User, views []crm.SavedView) (map[int64]ViewCount, error) {
	out := make(map[int64]ViewCount, len(views))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(views))
	now := s.now()
	for i, view := range views {
		// the key is the saved query and who reads it (owner=me): a warm
		// count costs no read at all
		key := fmt.Sprintf("%p|%d|%s", s.Store, actor.ID, view.Query)
		counts.mu.Lock()
		c, ok := counts.m[key]
		counts.mu.Unlock()
		if ok && now.Sub(c.at) < CountTTL {
			out[view.ID] = c.c
			continue
		}
		vals, _ := url.ParseQuery(view.Query)
		q, _, err := s.OpenQuery(ctx, actor, vals)
		if err != nil {
			if crm.CodeOf(err) != crm.CodeInvalid {
				return nil, err
			}
			out[view.ID] = ViewCount{Exact: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, exact, err := s.Store.CountCustomers(ctx, q.Filter)
			if err != nil {
				errs[i] = err
				return
			}
			c := ViewCount{Total: n, Exact: exact}
			mu.Lock()
			out[view.ID] = c
			mu.Unlock()
			counts.mu.Lock()
			if len(counts.m) > 10000 {
				clear(counts.m)
			}
			counts.m[key] = cachedCount{c: c, at: now}
			counts.mu.Unlock()
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
