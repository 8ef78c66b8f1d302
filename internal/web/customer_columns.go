package web

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// column is one column the customer table can show.
type column struct {
	Key     string // stable id, saved in preferences
	Label   string
	Sort    string // sort key, "" when not sortable
	Kind    string // how the template renders the cell
	Product string // for score columns
	Field   crm.CustomField
	Num     bool // numbers: right-aligned, tabular
}

// defaultColumns is what a new user sees (SPEC section 2).
var defaultColumns = []string{"avatar", "name", "email", "company", "owner", "score", "created"}

// tablePrefs is the saved choice of one user; it survives sign-out.
type tablePrefs struct {
	Columns      []string `json:"columns"`
	ScoreProduct string   `json:"score_product"`
}

const prefTable = "customer_table"

// allColumns lists every column in the menu's default order.
func allColumns(products []crm.Product, fields []crm.CustomField, scoreProduct string) []column {
	scoreLabel := "Score"
	for _, p := range products {
		if p.Key == scoreProduct {
			scoreLabel = "Score (" + p.Name + ")"
		}
	}
	cols := []column{
		{Key: "avatar", Label: "Avatar", Kind: "avatar"},
		{Key: "name", Label: "Name", Sort: "name", Kind: "name"},
		{Key: "email", Label: "E-mail", Sort: "email", Kind: "email"},
		{Key: "company", Label: "Company", Sort: "company", Kind: "company"},
		{Key: "owner", Label: "Owner", Sort: "owner", Kind: "owner"},
		{Key: "score", Label: scoreLabel, Sort: "score", Kind: "score", Product: scoreProduct, Num: true},
		{Key: "created", Label: "Created", Sort: "created", Kind: "created", Num: true},
		{Key: "phone", Label: "Phone", Kind: "phone"},
		{Key: "tags", Label: "Tags", Kind: "tags"},
		{Key: "segments", Label: "Segments", Kind: "segments"},
		{Key: "country", Label: "Country", Sort: "country", Kind: "country"},
		{Key: "language", Label: "Language", Sort: "language", Kind: "language"},
		{Key: "timezone", Label: "Timezone", Kind: "timezone"},
	}
	for _, p := range products {
		if p.Key == scoreProduct {
			continue // the Score column shows this product: one column, not two
		}
		cols = append(cols, column{Key: "score:" + p.Key, Label: "Score: " + p.Name, Sort: "score", Kind: "score", Product: p.Key, Num: true})
	}
	cols = append(cols,
		column{Key: "has_inbound", Label: "Has inbound", Kind: "has_inbound"},
		column{Key: "updated", Label: "Updated", Sort: "updated", Kind: "updated", Num: true},
	)
	for _, f := range fields {
		cols = append(cols, column{Key: "custom:" + f.Key, Label: f.Label, Kind: "custom", Field: f, Num: f.Type == crm.FieldNumber})
	}
	return cols
}

// loadPrefs reads a user's table choice, falling back to the defaults.
func (w *Web) loadPrefs(ctx context.Context, userID int64, products []crm.Product) tablePrefs {
	p := tablePrefs{}
	if raw, err := w.Store.GetUserPref(ctx, userID, prefTable); err == nil && raw != "" {
		_ = json.Unmarshal([]byte(raw), &p)
	}
	if len(p.Columns) == 0 {
		p.Columns = defaultColumns
	}
	if p.ScoreProduct == "" || !slices.ContainsFunc(products, func(x crm.Product) bool { return x.Key == p.ScoreProduct }) {
		p.ScoreProduct = ""
		if len(products) > 0 {
			p.ScoreProduct = products[0].Key
		}
	}
	return p
}

// visibleColumns orders the chosen columns as saved, dropping ones that no
// longer exist (a retired custom field, a removed product).
func visibleColumns(all []column, chosen []string) []column {
	var out []column
	for _, k := range chosen {
		i := slices.IndexFunc(all, func(c column) bool { return c.Key == k })
		if product, ok := strings.CutPrefix(k, "score:"); ok && i < 0 {
			// the product's own column became the Score column (its product was chosen there)
			i = slices.IndexFunc(all, func(c column) bool { return c.Key == "score" && c.Product == product })
		}
		if i >= 0 && !slices.ContainsFunc(out, func(c column) bool { return c.Key == all[i].Key }) {
			out = append(out, all[i])
		}
	}
	if len(out) == 0 {
		return visibleColumns(all, defaultColumns)
	}
	return out
}

// columnChoice is one line of the column menu.
type columnChoice struct {
	Key, Label string
	Visible    bool
}

// menuColumns lists the visible columns first (in their order), then the rest.
func menuColumns(all, visible []column) []columnChoice {
	var out []columnChoice
	for _, c := range visible {
		out = append(out, columnChoice{Key: c.Key, Label: c.Label, Visible: true})
	}
	for _, c := range all {
		if !slices.ContainsFunc(visible, func(v column) bool { return v.Key == c.Key }) {
			out = append(out, columnChoice{Key: c.Key, Label: c.Label})
		}
	}
	return out
}

// cleanColumnKeys keeps known, distinct keys.
func cleanColumnKeys(all []column, keys []string) []string {
	var out []string
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k != "" && !slices.Contains(out, k) && slices.ContainsFunc(all, func(c column) bool { return c.Key == k }) {
			out = append(out, k)
		}
	}
	return out
}

// scoreOf is a customer's score of a product as shown in its column, "" when
// there is none (a score of 0 is shown: "with index" took it for none).
func scoreOf(scores map[string]int, product string) string {
	if v, ok := scores[product]; ok {
		return strconv.Itoa(v)
	}
	return ""
}
