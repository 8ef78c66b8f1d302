package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestCustomerTable(t *testing.T) {
	ctx := browser(t,
		allow(`^400 POST /api/v1/customers$`, "Add customer refused: no name, then a bad e-mail"),
		allow(`^400 GET /crm/customers\?country=XX&`, "a bad filter value is shown, not ignored"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	if n := rowCount(t, ctx); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	total := textOf(t, ctx, "#match-count")
	screenshot(t, ctx, "customers")

	// A filter changes the rows and the URL.
	do(t, ctx,
		chromedp.Click(css("#filters summary")),
		chromedp.WaitVisible(css("#f-owner")),
		chromedp.SetValue(css("#f-owner"), "none"),
		chromedp.SetValue(css("#f-inbound"), "true"),
		chromedp.Click(css(`#filters button[type=submit]`)),
		chromedp.WaitVisible(css(".chips")),
	)
	loc := get(t, ctx, chromedp.Location())
	u, _ := url.Parse(loc)
	if u.Query().Get("owner") != "none" || u.Query().Get("has_inbound") != "true" {
		t.Fatalf("filter not in the URL: %s", loc)
	}
	filtered := textOf(t, ctx, "#match-count")
	if filtered == total {
		t.Fatalf("the filter did not change the count (%s)", total)
	}
	if owners := get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#customer-table tbody tr")].filter(r => !r.textContent.includes("Unclaimed")).length`)); owners != 0 {
		t.Fatalf("%d owned customers under owner=none", owners)
	}
	screenshot(t, ctx, "customers-filtered")

	// The back button restores the earlier view.
	do(t, ctx, chromedp.NavigateBack(), chromedp.WaitVisible(css("#customer-table tbody tr")))
	if got := textOf(t, ctx, "#match-count"); got != total {
		t.Fatalf("after back: %s customers, want %s", got, total)
	}

	// Sorting by name from the header.
	do(t, ctx, chromedp.Click(css(`th a.sort[href*="sort=name"]`)), chromedp.WaitVisible(css(`th[aria-sort="ascending"]`)))
	names := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table .col-name .name")].map(e => e.textContent.toLowerCase())`))
	for i := 1; i < len(names); i++ {
		if names[i-1] > names[i] {
			t.Fatalf("not sorted by name: %q before %q", names[i-1], names[i])
		}
	}

	// Next page, then previous: the same first row.
	first := textOf(t, ctx, "#customer-table tbody tr:first-child .name")
	do(t, ctx, chromedp.Click(css("#next-page")), chromedp.WaitVisible(css("#prev-page")))
	if textOf(t, ctx, "#customer-table tbody tr:first-child .name") == first {
		t.Fatal("the next page starts with the same customer")
	}
	do(t, ctx, chromedp.Click(css("#prev-page")), chromedp.WaitVisible(css("#customer-table tbody tr")))
	if got := textOf(t, ctx, "#customer-table tbody tr:first-child .name"); got != first {
		t.Fatalf("previous page starts with %q, want %q", got, first)
	}

	// The column menu's choice survives a reload (it is saved on the server).
	do(t, ctx,
		chromedp.Click(css("#columns summary")),
		chromedp.WaitVisible(css(`.column-list input[value="country"]`)),
		chromedp.Click(css(`.column-list input[value="country"]`)),
		chromedp.Click(css(`.column-list input[value="created"]`)),
		chromedp.Click(css(`#columns button[type=submit]:not([name])`)),
		chromedp.WaitVisible(css("th.col-country")),
		chromedp.Reload(),
		chromedp.WaitVisible(css("th.col-country")),
	)
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("th.col-created").length`)); n != 0 {
		t.Fatal("the hidden Created column is back after reload")
	}

	// Add a customer with a quick-created company; it shows in the table.
	do(t, ctx,
		chromedp.Navigate(base+"/crm/customers"),
		chromedp.WaitVisible(css("#add-customer")),
		chromedp.Click(css("#add-customer")),
		chromedp.WaitVisible(css("#a-name")),
		chromedp.Click(css("#add-submit")), // nothing typed: refused beside the field
		chromedp.WaitVisible(css(`[data-field="full_name"] .field-error`)),
	)
	if msg := textOf(t, ctx, `[data-field="full_name"] .field-error`); !strings.Contains(msg, "name") {
		t.Fatalf("empty name message %q", msg)
	}
	do(t, ctx,
		chromedp.SendKeys(css("#a-name"), "Zoë Testperson"),
		chromedp.SendKeys(css("#a-contact"), "not-an-address"),
		chromedp.SendKeys(css("#a-country"), "Germany"),
		chromedp.SendKeys(css("#a-tags"), "e2e, VIP"),
		chromedp.Click(css("#add-submit")),
		chromedp.WaitVisible(css(`[data-field="contact"] .field-error`)),
	)
	if kept := get(t, ctx, chromedp.Value(css("#a-name"))); kept != "Zoë Testperson" {
		t.Fatalf("typed name lost after an error: %q", kept)
	}
	screenshot(t, ctx, "add-customer-error")
	do(t, ctx,
		chromedp.SetValue(css("#a-contact"), "zoe.testperson@example.org"),
		chromedp.SendKeys(css("#a-company"), "Quickly Made GmbH"),
		chromedp.Click(css("#new-company")),
		chromedp.WaitVisible(css("#c-domain")),
		chromedp.SendKeys(css("#c-domain"), "quickly-made.de"),
	)
	// the new company's country starts as the customer's
	if c := get(t, ctx, chromedp.Value(css("#c-country"))); c != "Germany" {
		t.Fatalf("the company dialog's country is %q, not the customer's Germany", c)
	}
	screenshot(t, ctx, "create-company")
	atWidth(t, ctx, "create-company-1440", 1440)
	atWidth(t, ctx, "create-company-390", 390)
	do(t, ctx,
		chromedp.Click(css("#company-submit")),
		chromedp.WaitNotVisible(css("#company-dialog")),
		chromedp.Click(css("#add-submit")),
		chromedp.WaitVisible(css(".toast")),
	)
	row := textOf(t, ctx, "#customer-table tbody tr:first-child")
	if !strings.Contains(row, "Zoë Testperson") || !strings.Contains(row, "Quickly Made GmbH") || !strings.Contains(row, "zoe.testperson@example.org") {
		t.Fatalf("new customer not at the top of the table: %q", row)
	}
	screenshot(t, ctx, "customer-added")
	do(t, ctx, chromedp.Navigate(base+"/crm/companies?q=Quickly"), chromedp.WaitVisible(css("#company-table")))
	if row := textOf(t, ctx, "#company-table tbody tr:first-child"); !strings.Contains(row, "Quickly Made GmbH") || !strings.Contains(row, "Germany") {
		t.Fatalf("the quick-made company in the companies table: %q", row)
	}

	// A bad filter value is shown, not ignored.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=XX&created_from=2025-02-30"), chromedp.WaitVisible(css("#filter-errors")))
	if msg := textOf(t, ctx, "#filter-errors"); !strings.Contains(msg, `"XX" is not a country code`) || !strings.Contains(msg, "is not a date") {
		t.Fatalf("filter errors %q", msg)
	}
	screenshot(t, ctx, "customers-bad-filter")
}
