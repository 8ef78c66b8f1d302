package web

import (
	"html"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// rowRenderer writes the rows of the customer table. A row is the one piece
// of markup repeated 25-100 times per page with up to 18 cells each: written
// by html/template, every action of it (each field, each escaper, each "eq"
// that picks a cell's kind) was a reflective call, and rendering took 5-6 ms
// of a table page's 9 ms of CPU at a million customers (docs/benchmarks.md,
// "Load test"). The template "row" calls it (rowHTML), so the table page and
// the one-row fragment after a drawer edit share it. Every value is escaped
// with html.EscapeString, in text and in double-quoted attributes alike; the
// only URLs are the table's own links and the avatar, which is dropped
// unless it is a web address (html/template's rule for a src).
type rowRenderer struct {
	loc       *time.Location
	avatarSrc func(string) string
}

// row renders one table row of c as the view v shows it.
func (rr rowRenderer) row(v CustomerListView, c crm.Customer) template.HTML {
	var b strings.Builder
	b.Grow(1024)
	esc := func(s string) { b.WriteString(html.EscapeString(s)) }
	id := strconv.FormatInt(c.ID, 10)
	href := v.Href(c.ID)
	name := c.FullName

	b.WriteString(`<tr data-id="`)
	b.WriteString(id)
	b.WriteString(`" data-owner="`)
	if c.Owner != nil {
		b.WriteString(strconv.FormatInt(c.Owner.ID, 10))
	}
	b.WriteString(`" data-href="`)
	esc(href)
	b.WriteString(`" data-created="`)
	esc(crm.FormatDate(c.CreatedAt, rr.loc))
	b.WriteString(`" data-name="`)
	esc(name)
	b.WriteString(`" tabindex="-1"`)
	if v.Drawer != nil && v.Drawer.C != nil && v.Drawer.C.ID == c.ID {
		b.WriteString(` aria-selected="true"`)
	}
	b.WriteString(">\n    <td class=\"col-check\"><input type=\"checkbox\" class=\"row-check\" value=\"")
	b.WriteString(id)
	b.WriteString(`" aria-label="Select `)
	esc(name)
	b.WriteString(`" title="Select (x)" aria-keyshortcuts="x"></td>`)

	for _, col := range v.Columns {
		b.WriteString("\n    ")
		switch col.Kind {
		case "avatar":
			b.WriteString(`<td class="col-avatar"><span class="avatar avatar-sm hue-`)
			b.WriteString(strconv.Itoa(hue(name)))
			b.WriteString(`" aria-hidden="true">`)
			esc(crm.Initials(name))
			if src := rr.avatarSrc(c.AvatarURL); src != "" && webURL(src) {
				b.WriteString(`<img src="`)
				esc(src)
				b.WriteString(`" alt="" loading="lazy" referrerpolicy="no-referrer">`)
			}
			b.WriteString(`</span></td>`)
		case "name":
			b.WriteString(`<td class="col-name" title="`)
			esc(name)
			b.WriteString(`"><a class="name" href="`)
			esc(href)
			b.WriteString(`">`)
			esc(name)
			b.WriteString(`</a>`)
			if c.ArchivedAt != nil {
				b.WriteString(` <span class="badge">Archived</span>`)
			}
			b.WriteString(`</td>`)
		case "email":
			titled(&b, c.PrimaryEmail, c.PrimaryEmail)
		case "company":
			company := ""
			if c.Company != nil {
				company = c.Company.Name
			}
			titled(&b, company, company)
		case "owner":
			b.WriteString(`<td>`)
			if c.Owner != nil {
				esc(c.Owner.Name)
			} else {
				b.WriteString(`<span class="badge badge-muted">Unclaimed</span>`)
				if c.ArchivedAt == nil {
					b.WriteString(` <button type="button" class="btn btn-xs row-claim" data-row-claim aria-label="Claim `)
					esc(name)
					b.WriteString(`">Claim</button>`)
				}
			}
			b.WriteString(`</td>`)
		case "score":
			b.WriteString(`<td class="num">`)
			if s := scoreOf(c.Scores, col.Product); s != "" {
				b.WriteString(s)
			} else {
				b.WriteString(`<span class="muted">–</span>`)
			}
			b.WriteString(`</td>`)
		case "created", "updated":
			t := c.CreatedAt
			if col.Kind == "updated" {
				t = c.UpdatedAt
			}
			b.WriteString(`<td class="num" title="`)
			esc(crm.FormatDateTime(t, rr.loc))
			b.WriteString(`">`)
			if v.DateSorted() {
				esc(crm.FormatDate(t, rr.loc))
			} else {
				esc(ago(t, rr.loc))
			}
			b.WriteString(`</td>`)
		case "phone":
			b.WriteString(`<td class="num">`)
			esc(crm.PhoneDisplay(c.PrimaryPhone))
			b.WriteString(`</td>`)
		case "tags":
			b.WriteString(`<td title="`)
			esc(strings.Join(c.Tags, ", "))
			b.WriteString(`">`)
			for _, t := range c.Tags {
				b.WriteString(`<span class="tag">`)
				esc(t)
				b.WriteString(`</span>`)
			}
			b.WriteString(`</td>`)
		case "segments":
			b.WriteString(`<td>`)
			for i, s := range c.Segments {
				if i > 0 {
					b.WriteString(", ")
				}
				esc(v.SegmentName(s))
			}
			b.WriteString(`</td>`)
		case "country":
			titled(&b, c.Country, crm.CountryName(c.Country))
		case "language":
			titled(&b, c.Language, crm.LanguageName(c.Language))
		case "timezone":
			b.WriteString(`<td>`)
			esc(c.Timezone)
			b.WriteString(`</td>`)
		case "has_inbound":
			if c.HasInbound {
				b.WriteString(`<td>Yes</td>`)
			} else {
				b.WriteString(`<td><span class="muted">No</span></td>`)
			}
		case "custom":
			b.WriteString(`<td class="`)
			if col.Num {
				b.WriteString("num")
			}
			b.WriteString(`">`)
			esc(customValue(c.Custom[col.Field.Key]))
			b.WriteString(`</td>`)
		}
	}
	b.WriteString("\n</tr>")
	return template.HTML(b.String()) // every value above is escaped
}

// titled writes a cell showing text, with title as its tooltip.
func titled(b *strings.Builder, title, text string) {
	b.WriteString(`<td title="`)
	b.WriteString(html.EscapeString(title))
	b.WriteString(`">`)
	b.WriteString(html.EscapeString(text))
	b.WriteString(`</td>`)
}

// webURL reports whether u may be an image's source: a relative address or
// an http(s) one, as html/template allows in a src (never javascript: or data:).
func webURL(u string) bool {
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return true // no scheme: relative
	}
	scheme := strings.ToLower(u[:i])
	return scheme == "http" || scheme == "https"
}
