package importer

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// Modes of an import: what happens to a row whose e-mail an active customer has.
const (
	ModeCreate = "create" // create only: such rows are skipped
	ModeUpsert = "upsert" // create or update: they update that customer
	ModeUpdate = "update" // update only: rows matching nobody are skipped
)

// ValidMode reports whether m is a mode.
func ValidMode(m string) bool { return m == ModeCreate || m == ModeUpsert || m == ModeUpdate }

// Row is one data row read and checked: the values as they will be stored,
// and the row's errors (it fails) and warnings (it goes in, with a note).
type Row struct {
	Num       int64    `json:"row"` // 1 = the first row under the header
	Cells     []string `json:"-"`
	FirstName string   `json:"first_name,omitempty"`
	LastName  string   `json:"last_name,omitempty"`
	FullName  string   `json:"full_name"`
	Email     string   `json:"email,omitempty"`
	Phone     string   `json:"phone,omitempty"`
	LinkedIn  string   `json:"linkedin_url,omitempty"`
	Website   string   `json:"website,omitempty"`
	// More are the contacts beyond the first of each channel (E-mail 2,
	// Phone 2...): additional contacts of the customer.
	More      []MoreContact     `json:"more_contacts,omitempty"`
	Company   string            `json:"company_name,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	SegmentID *int64            `json:"segment_id,omitempty"`
	OwnerID   *int64            `json:"-"`
	Owner     string            `json:"owner_email,omitempty"`
	Language  string            `json:"language,omitempty"`
	Country   string            `json:"country,omitempty"`
	Timezone  string            `json:"timezone,omitempty"`
	Scores    map[string]int    `json:"scores,omitempty"` // product key -> fit score
	Custom    map[string]string `json:"custom,omitempty"` // field key -> JSON value
	Errors    []string          `json:"errors"`
	Warnings  []string          `json:"warnings"`

	set map[string]bool // targets this row gives a value for
}

// MoreContact is an additional contact of a row.
type MoreContact struct {
	Channel crm.Channel `json:"channel"`
	Value   string      `json:"value"`
}

// primary returns the field of r that holds the first contact of a
// contact target.
func (r *Row) primary(t string) *string {
	switch t {
	case "email":
		return &r.Email
	case "phone":
		return &r.Phone
	case "linkedin_url":
		return &r.LinkedIn
	default:
		return &r.Website
	}
}

// addContact gives the row a contact of target t: the first of its channel
// is the primary, later ones are additional; a value already there is
// dropped.
func (r *Row) addContact(t, v string) {
	p := r.primary(t)
	ch := ContactTargets[t]
	if *p == v || slices.Contains(r.More, MoreContact{ch, v}) {
		return
	}
	if *p == "" {
		*p = v
		return
	}
	r.More = append(r.More, MoreContact{ch, v})
}

// Contacts are every contact of the row, the primary of each channel first.
func (r *Row) Contacts() []crm.Contact {
	var out []crm.Contact
	for _, t := range []string{"email", "phone", "linkedin_url", "website"} {
		if v := *r.primary(t); v != "" {
			out = append(out, crm.Contact{Channel: ContactTargets[t], Value: v, Primary: true})
		}
	}
	for _, m := range r.More {
		out = append(out, crm.Contact{Channel: m.Channel, Value: m.Value})
	}
	return out
}

// plan is a mapping turned into column positions.
type plan struct {
	width   int
	targets []string // per column; "" = ignored
	columns []string
	multi   map[string]bool // contact targets of more than one column
}

func newPlan(columns []string, m map[string]string) plan {
	p := plan{width: len(columns), targets: make([]string, len(columns)), columns: columns, multi: map[string]bool{}}
	seen := map[string]bool{}
	for i, c := range columns {
		t := m[c]
		p.targets[i] = t
		if _, ok := ContactTargets[t]; ok && seen[t] {
			p.multi[t] = true
		}
		seen[t] = true
	}
	return p
}

// checker validates rows against the catalog for one actor.
type checker struct {
	cat   *Catalog
	actor *crm.User
	plan  plan
}

// check reads one record into a Row (cells are copied).
func (c *checker) check(num int64, rec []string) *Row {
	r := &Row{Num: num, Cells: append([]string(nil), rec...), set: map[string]bool{}, Errors: []string{}, Warnings: []string{}}
	fail := func(format string, args ...any) { r.Errors = append(r.Errors, fmt.Sprintf(format, args...)) }
	if len(rec) > c.plan.width {
		extra := rec[c.plan.width:]
		if !blank(extra) {
			fail("This row has %d cells but the header has %d: a value holding the delimiter must be in quotes.", len(rec), c.plan.width)
			return r
		}
	}
	vals := map[string]string{}
	type cell struct{ col, v string }
	contacts := map[string][]cell{} // contact target -> its non-empty cells, in column order
	for i, t := range c.plan.targets {
		if t == "" || i >= len(rec) {
			continue
		}
		if v := strings.TrimSpace(rec[i]); v != "" {
			if _, ok := ContactTargets[t]; ok {
				contacts[t] = append(contacts[t], cell{c.plan.columns[i], v})
			} else {
				vals[t] = v
			}
			r.set[t] = true
		}
	}
	name := func(field, v string) string {
		if utf8.RuneCountInString(v) > customers.MaxName {
			fail("%s: use at most %d characters.", field, customers.MaxName)
			return ""
		}
		return v
	}
	r.FirstName = name("first_name", vals["first_name"])
	r.LastName = name("last_name", vals["last_name"])
	r.FullName = name("full_name", vals["full_name"])
	// country first: phones without a + are read in the row's country
	var err error
	if v := vals["country"]; v != "" {
		if r.Country, err = crm.NormalizeCountry(v); err != nil {
			fail("country: %s", msg(err))
		}
	}
	if v := vals["language"]; v != "" {
		if r.Language, err = crm.NormalizeLanguage(v); err != nil {
			fail("language: %s", msg(err))
		}
	}
	if v := vals["timezone"]; v != "" {
		if r.Timezone, err = crm.NormalizeTimezone(v); err != nil {
			fail("timezone: %s", msg(err))
		}
	}
	for _, t := range []string{"email", "phone", "linkedin_url", "website"} {
		label := t
		for _, k := range contacts[t] {
			if c.plan.multi[t] {
				label = fmt.Sprintf("%s (%s)", t, k.col)
			}
			var v string
			var err error
			switch t {
			case "email":
				if v, err = crm.NormalizeEmail(k.v); err != nil {
					fail("%s: %s is not an e-mail address.", label, short(k.v))
				}
			case "phone":
				v, err = crm.NormalizePhone(k.v, r.Country)
			case "linkedin_url":
				v, err = crm.NormalizeLinkedIn(k.v)
			default:
				v, err = crm.NormalizeContact(crm.ChannelWebsite, k.v, "")
			}
			if err != nil {
				if t != "email" {
					fail("%s: %s", label, msg(err))
				}
				continue
			}
			if len(r.More) >= maxRowContacts {
				fail("%s: at most %d contacts per row.", label, maxRowContacts)
				break
			}
			r.addContact(t, v)
		}
	}
	r.Company = name("company_name", vals["company_name"])
	if v := vals["tags"]; v != "" {
		seen := map[string]bool{}
		for _, t := range splitTags(v) {
			if seen[strings.ToLower(t)] {
				continue
			}
			seen[strings.ToLower(t)] = true
			if utf8.RuneCountInString(t) > customers.MaxTagName {
				fail("tags: the tag %q is longer than %d characters.", short(t), customers.MaxTagName)
				continue
			}
			r.Tags = append(r.Tags, t)
		}
		if len(r.Tags) > customers.MaxTagsSet {
			fail("tags: at most %d tags per customer.", customers.MaxTagsSet)
		}
	}
	if v := vals["segment_id"]; v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if _, ok := c.cat.Segments[id]; err != nil || !ok {
			fail("segment_id: no segment has the id %s.", short(v))
		} else {
			r.SegmentID = &id
		}
	}
	if v := vals["owner_email"]; v != "" {
		u, ok := c.cat.Users[strings.ToLower(v)]
		switch {
		case !ok:
			fail("owner_email: no user has the e-mail %s.", short(v))
		case !u.Active:
			fail("owner_email: %s is deactivated.", u.Email)
		case c.actor != nil && !c.actor.IsAdmin() && u.ID != c.actor.ID:
			fail("owner_email: only an admin can give customers to someone else.")
		default:
			r.OwnerID, r.Owner = &u.ID, u.Email
		}
	}
	for t, v := range vals {
		if k, ok := strings.CutPrefix(t, "score:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
			if err != nil || n < 0 || n > 100 {
				fail("%s: %s is not a score from 0 to 100.", t, short(v))
				continue
			}
			if r.Scores == nil {
				r.Scores = map[string]int{}
			}
			r.Scores[k] = n
		}
		if k, ok := strings.CutPrefix(t, "custom:"); ok {
			j, err := customers.CustomValue(c.cat.Fields[k], v)
			if err != nil {
				fail("%s: %s", t, msg(err))
				continue
			}
			if j != nil {
				if r.Custom == nil {
					r.Custom = map[string]string{}
				}
				r.Custom[k] = *j
			}
		}
	}
	if r.FullName == "" {
		r.FullName = strings.TrimSpace(r.FirstName + " " + r.LastName)
	}
	if r.FullName == "" && len(r.Errors) == 0 {
		if r.Email == "" {
			fail("The row needs a name (first, last or full name) or an e-mail address.")
		} else {
			r.FullName = r.Email
			r.Warnings = append(r.Warnings, "No name: the e-mail address is used as the name.")
		}
	}
	return r
}

// maxRowContacts is how many additional contacts one row may bring.
const maxRowContacts = 50

// tooBig is a row over the limits, as a failed row: its first cells (those
// under the header) and why.
func (c *checker) tooBig(num int64, rec []string, e *RowTooBig) *Row {
	rec = rec[:min(len(rec), c.plan.width)]
	cells := make([]string, len(rec))
	for i, v := range rec {
		if len(v) > maxReportCell-128 { // cut here, saying how long the row is, not the part of it read
			cut := maxReportCell - 128
			for cut > 0 && !utf8RuneStart(v[cut]) {
				cut--
			}
			v = v[:cut] + fmt.Sprintf("… [cut: the row is %s bytes in the file]", thousands(e.Bytes))
		}
		cells[i] = v
	}
	return &Row{Num: num, Cells: cells, set: map[string]bool{}, Errors: []string{e.Error()}, Warnings: []string{}}
}

// row checks a record as Rows.Next returned it: err is nil or a *RowTooBig.
func (c *checker) row(num int64, rec []string, err error) *Row {
	var tb *RowTooBig
	if errors.As(err, &tb) {
		return c.tooBig(num, rec, tb)
	}
	return c.check(num, rec)
}

// merge lays a later row of the same e-mail over this one (upsert within a file).
func (r *Row) merge(l *Row) {
	if l.set["first_name"] {
		r.FirstName = l.FirstName
	}
	if l.set["last_name"] {
		r.LastName = l.LastName
	}
	if l.set["full_name"] || l.set["first_name"] || l.set["last_name"] {
		r.FullName = l.FullName
	}
	for _, k := range l.Contacts() {
		for t, ch := range ContactTargets {
			if ch == k.Channel && len(r.More) < maxRowContacts {
				r.addContact(t, k.Value)
			}
		}
	}
	str := map[string][2]*string{"company_name": {&r.Company, &l.Company}, "language": {&r.Language, &l.Language}, "country": {&r.Country, &l.Country},
		"timezone": {&r.Timezone, &l.Timezone}}
	for t, p := range str {
		if l.set[t] {
			*p[0] = *p[1]
		}
	}
	if l.SegmentID != nil {
		r.SegmentID = l.SegmentID
	}
	if l.OwnerID != nil {
		r.OwnerID, r.Owner = l.OwnerID, l.Owner
	}
	seen := map[string]bool{}
	for _, t := range r.Tags {
		seen[strings.ToLower(t)] = true
	}
	for _, t := range l.Tags {
		if !seen[strings.ToLower(t)] && len(r.Tags) < customers.MaxTagsSet {
			r.Tags = append(r.Tags, t)
		}
	}
	for k, v := range l.Scores {
		if r.Scores == nil {
			r.Scores = map[string]int{}
		}
		r.Scores[k] = v
	}
	for k, v := range l.Custom {
		if r.Custom == nil {
			r.Custom = map[string]string{}
		}
		r.Custom[k] = v
	}
	for t := range l.set {
		r.set[t] = true
	}
}

// splitTags splits a tags cell on ";", "," and Google's ":::" (Labels
// "* myContacts ::: Clients"), leaving out Google's system labels, the ones
// starting with "* " (* myContacts, * starred).
func splitTags(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ":::") {
		for _, t := range strings.FieldsFunc(part, func(r rune) bool { return r == ';' || r == ',' }) {
			t = strings.TrimSpace(t)
			if t == "" || strings.HasPrefix(t, "* ") {
				continue
			}
			out = append(out, t)
		}
	}
	return out
}

// short quotes a value for a message, cut to a readable length.
func short(v string) string {
	if utf8.RuneCountInString(v) > 60 {
		v = string([]rune(v)[:60]) + "…"
	}
	return strconv.Quote(v)
}

func msg(err error) string {
	var de *crm.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
