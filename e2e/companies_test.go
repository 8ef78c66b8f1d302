package e2e

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/acme/crm/internal/seed"
)

// TestCompaniesTable (issue 13): the Companies table filters and sorts,
// Export with a filter on downloads the filtered companies, a row opens the
// company drawer, the drawer leads to the customer table filtered by the
// company, and the customer table's company picker adds a second one.
func TestCompaniesTable(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#customer-table")))
	do(t, ctx, chromedp.Click(css(`.sidenav a[href="/crm/companies"]`)), chromedp.WaitVisible(css("#company-table tbody tr")))
	all := companyCount(t, ctx)
	if all == 0 {
		t.Fatal("no companies listed")
	}
	screenshot(t, ctx, "companies-1440")

	// Filter: companies with active customers, in Germany.
	do(t, ctx, chromedp.Click(css("#filters summary")), chromedp.WaitVisible(css("#f-has")),
		chromedp.SetValue(css("#f-has"), "true"),
		chromedp.SendKeys(css("#f-country"), "Germany"),
		chromedp.Click(css(`#filters button[type=submit]`)),
		chromedp.WaitVisible(css(`.chips a[aria-label="Remove filter With active customers"]`)))
	filtered := companyCount(t, ctx)
	if filtered == 0 || filtered >= all {
		t.Fatalf("the filter kept %d of %d companies", filtered, all)
	}
	for _, r := range companyRows(t, ctx) {
		if r[2] != "Germany" || r[3] == "0" {
			t.Fatalf("a row outside the filter: %v", r)
		}
	}
	// Sort by active customers, most first (the second click).
	do(t, ctx, chromedp.Click(css(`#company-table th.col-customers_active a`)), chromedp.WaitVisible(css(`th.col-customers_active[aria-sort="ascending"]`)))
	do(t, ctx, chromedp.Click(css(`#company-table th.col-customers_active a`)), chromedp.WaitVisible(css(`th.col-customers_active[aria-sort="descending"]`)))
	rows := companyRows(t, ctx)
	for i := 1; i < len(rows); i++ {
		if cnum(t, rows[i-1][3]) < cnum(t, rows[i][3]) {
			t.Fatalf("not by active customers, most first: %v before %v", rows[i-1], rows[i])
		}
	}
	if companyCount(t, ctx) != filtered {
		t.Fatal("sorting changed the count")
	}
	screenshot(t, ctx, "companies-filtered-1440")

	// Export with the filter on: the download holds exactly the filtered companies.
	exported := downloadCSV(t, ctx, "#export-companies")
	if len(exported) != filtered+1 || exported[0][0] != "id" {
		t.Fatalf("the export holds %d rows for %d companies: %v", len(exported)-1, filtered, exported[0])
	}
	for _, r := range exported[1:] {
		if r[3] != "DE" || r[4] == "0" {
			t.Fatalf("exported a company outside the filter: %v", r)
		}
	}

	// Open the first company beside the table, then its customers.
	name, active := rows[0][0], cnum(t, rows[0][3])
	do(t, ctx, chromedp.Click(css("#company-table tbody tr:first-child a.name")),
		chromedp.WaitVisible(css("#company-drawer #company-customers")))
	if h := textOf(t, ctx, "#company-drawer #company-name"); h != name {
		t.Fatalf("the drawer shows %q, the row %q", h, name)
	}
	if !strings.Contains(get(t, ctx, chromedp.Evaluate[string](`location.search`)), "open=") ||
		!strings.Contains(get(t, ctx, chromedp.Evaluate[string](`location.search`)), "has_customers=true") {
		t.Fatalf("the drawer's URL lost the table: %s", get(t, ctx, chromedp.Evaluate[string](`location.href`)))
	}
	screenshot(t, ctx, "companies-drawer-1440")
	do(t, ctx, chromedp.Click(css("#company-customers")), chromedp.WaitVisible(css("#customer-table tbody tr")))
	if chips := textOf(t, ctx, ".chips"); !strings.Contains(chips, "Company: "+name) {
		t.Fatalf("the customer table's chips: %q", chips)
	}
	if n := cnum(t, textOf(t, ctx, "#match-count")); n != active {
		t.Fatalf("the customer table counts %d customers of %s, the Companies table %d", n, name, active)
	}
	companies := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table tbody td.col-company")].map(td => td.textContent.trim())`))
	for _, c := range companies {
		if c != name {
			t.Fatalf("a customer of %q in the table filtered by %q", c, name)
		}
	}
	screenshot(t, ctx, "customers-by-company-1440")

	// The customer table's company picker: a second company, typed.
	second := rows[1][0]
	do(t, ctx, chromedp.Click(css("#filters summary")), chromedp.WaitVisible(css("#f-company")),
		chromedp.SendKeys(css("#f-company"), second[:min(len(second), 6)]),
		chromedp.WaitVisible(css(`.combo-list [role="option"]`)))
	if !get(t, ctx, chromedp.Poll[bool](`(() => { const o = [...document.querySelectorAll('.combo-list [role="option"]')]
		.find(li => li.querySelector(".combo-name").textContent.startsWith(`+strconv.Quote(second)+`)); if (!o) return false; o.click(); return true; })()`)) {
		t.Fatalf("no suggestion for %q", second)
	}
	do(t, ctx, chromedp.Click(css(`#filters button[type=submit]`)),
		chromedp.WaitVisible(css(`.chips a[aria-label="Remove filter Company: `+second+`"]`)))
	if n := cnum(t, textOf(t, ctx, "#match-count")); n != active+cnum(t, rows[1][3]) {
		t.Fatalf("two companies: %d customers, want %d", n, active+cnum(t, rows[1][3]))
	}

}

// TestCompaniesAdd (issue 13): Add company refuses a domain another company
// has beside the field, naming it, keeping what was typed; the drawer's edit
// does the same; the phone layout of the table, drawer and dialog.
func TestCompaniesAdd(t *testing.T) {
	ctx := browser(t, allow(`^400 POST /api/v1/companies$`, "Add company with a domain another company has: refused beside the field"),
		allow(`^400 PATCH /api/v1/companies/\d+$`, "the drawer's domain changed to one another company has: refused beside the field"))
	base := serve(t, "--demo")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	// Add company: a domain another company has is refused beside the field.
	do(t, ctx, chromedp.Navigate(base+"/crm/companies"), chromedp.WaitVisible(css("#company-table tbody tr")))
	taken := get(t, ctx, chromedp.Evaluate[[]string](`(() => { const r = [...document.querySelectorAll("#company-table tbody tr")].find(r => r.cells[1].textContent.trim());
		return [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]; })()`))
	typed := "https://www.WWW." + strings.ToUpper(taken[1]) + "/about"
	typed = strings.Replace(typed, "WWW.", "", 1)
	do(t, ctx, chromedp.Click(css("#add-company")), chromedp.WaitVisible(css("#n-name")),
		chromedp.SendKeys(css("#n-name"), "Zebra Duplicate Test"),
		chromedp.SendKeys(css("#n-domain"), typed),
		chromedp.SendKeys(css("#n-country"), "France"),
		chromedp.Click(css("#add-company-submit")),
		chromedp.WaitVisible(css(`#add-company-form [data-field="domain"] .field-error`)))
	msg := textOf(t, ctx, `#add-company-form [data-field="domain"] .field-error`)
	if !strings.Contains(msg, taken[0]) || !strings.Contains(msg, taken[1]) {
		t.Fatalf("the domain error %q does not name %s (%s)", msg, taken[0], taken[1])
	}
	kept := get(t, ctx, chromedp.Evaluate[[]string](`["n-name", "n-domain", "n-country"].map(id => document.getElementById(id).value)`))
	if kept[0] != "Zebra Duplicate Test" || kept[1] != typed || kept[2] != "France" {
		t.Fatalf("what was typed is gone: %q", kept)
	}
	if !focused(t, ctx, "#n-domain") {
		t.Error("the refused field does not have the focus")
	}
	screenshot(t, ctx, "companies-add-error-1440")
	// corrected, it is added and opens beside the table
	get(t, ctx, chromedp.Evaluate[bool](`(() => { document.getElementById("n-domain").value = ""; return true; })()`))
	do(t, ctx, chromedp.SendKeys(css("#n-domain"), "zebra-duplicate-test.example"),
		chromedp.Click(css("#add-company-submit")),
		chromedp.WaitVisible(css("#company-drawer #company-name")))
	if h := textOf(t, ctx, "#company-drawer #company-name"); h != "Zebra Duplicate Test" {
		t.Fatalf("the new company's drawer shows %q", h)
	}
	if v := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("co-country").value`)); v != "France" {
		t.Fatalf("the new company's country shows %q", v)
	}

	// Edit in the drawer: the same check, beside the field, the typed text kept.
	get(t, ctx, chromedp.Evaluate[bool](`(() => { const el = document.getElementById("co-domain"); el.value = "www.`+taken[1]+`";
		el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`))
	do(t, ctx, chromedp.WaitVisible(css(`#co-domain[aria-invalid="true"] ~ .field-error`)))
	if msg := textOf(t, ctx, `#co-domain ~ .field-error`); !strings.Contains(msg, taken[0]) {
		t.Fatalf("the drawer's domain error %q does not name %s", msg, taken[0])
	}
	if v := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("co-domain").value`)); v != "www."+taken[1] {
		t.Fatalf("the drawer lost what was typed: %q", v)
	}
	get(t, ctx, chromedp.Evaluate[bool](`(() => { const el = document.getElementById("co-country"); el.value = "Spain";
		el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`))
	do(t, ctx, chromedp.WaitVisible(css(`#co-country ~ .field-status.is-saved`)))
	screenshot(t, ctx, "companies-drawer-edit-error-1440")

	// On a phone.
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	do(t, ctx, chromedp.Navigate(base+"/crm/companies?has_customers=true"), chromedp.WaitVisible(css("#company-table tbody tr")))
	screenshot(t, ctx, "companies-390")
	do(t, ctx, chromedp.Click(css("#company-table tbody tr:first-child a.name")), chromedp.WaitVisible(css("#company-drawer #company-customers")))
	screenshot(t, ctx, "companies-drawer-390")
	do(t, ctx, chromedp.Click(css("#company-drawer [data-close-drawer]")), chromedp.WaitNotVisible(css("#company-drawer")))
	do(t, ctx, chromedp.Click(css("#add-company")), chromedp.WaitVisible(css("#n-name")),
		chromedp.SendKeys(css("#n-name"), "Phone Co"), chromedp.SendKeys(css("#n-domain"), "not a domain"+kb.Enter),
		chromedp.WaitVisible(css(`#add-company-form [data-field="domain"] .field-error`)))
	screenshot(t, ctx, "companies-add-error-390")
}

// count is the Companies table's match count.
func companyCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	return cnum(t, textOf(t, ctx, "#match-count"))
}

func cnum(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(s), ",", ""))
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// tableRows are the Companies table's cells as shown.
func companyRows(t *testing.T, ctx context.Context) [][]string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll("#company-table tbody tr")].map(r => [...r.cells].map(c => c.textContent.trim()))`))
}

// download clicks a link and reads the CSV the browser downloads.
func downloadCSV(t *testing.T, ctx context.Context, sel string) [][]string {
	t.Helper()
	dir := t.TempDir()
	wctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	progress := chromedp.Events(wctx, cdpbrowser.DownloadProgress)
	do(t, ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(css(sel)),
	)
	file := ""
	for ev, err := range progress {
		if err != nil {
			failShot(t, ctx)
			t.Fatalf("no download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("the download is not a CSV: %v", err)
	}
	return rows
}
