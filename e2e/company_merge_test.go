package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// companyByAPI adds a company with n customers from the page, as the
// signed-in user, and answers its id.
func companyByAPI(t *testing.T, ctx context.Context, name, domain string, n int) int64 {
	t.Helper()
	st, body := fetchJSON(t, ctx, "POST", "/api/v1/companies", fmt.Sprintf(`{"name": %q, "domain": %q}`, name, domain))
	if st != 201 {
		t.Fatalf("create company %s: %d %s", name, st, body)
	}
	var co struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &co); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if st, body := fetchJSON(t, ctx, "POST", "/api/v1/customers", fmt.Sprintf(`{"full_name": "%s Person %d", "company_id": %d}`, strings.Fields(name)[0], i, co.ID)); st != 201 {
			t.Fatalf("create customer: %d %s", st, body)
		}
	}
	return co.ID
}

// Issue 13: possible duplicate companies are listed by reason; Merge…
// previews what happens for the company chosen to keep, then merges: the
// row goes, the kept company has the customers, a log entry and the
// domain it lacked, and the merged one says where it went.
func TestCompanyMergeFromDuplicates(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table")))
	keep := companyByAPI(t, ctx, "Quillonex", "", 1)
	dup := companyByAPI(t, ctx, "QUILLONEX GmbH", "quillonex.de", 3)

	row := `#company-duplicates tr[data-group="name:quillonex"]`
	do(t, ctx, chromedp.Navigate(base+"/crm/companies/duplicates"), chromedp.WaitVisible(css(row)))
	text := textOf(t, ctx, row)
	for _, want := range []string{"Similar name", "Quillonex", "QUILLONEX GmbH", "quillonex.de", "3 active customers", "1 active customer"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the group's row says %q, want %q in it", text, want)
		}
	}
	// the company drawer links to its possible duplicates
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/crm/companies/%d", base, keep)), chromedp.WaitVisible(css(".co-dups-link a")))
	if s := textOf(t, ctx, ".co-dups-link a"); !strings.Contains(s, "1 possible duplicate") {
		t.Fatalf("the drawer's link says %q", s)
	}
	do(t, ctx, chromedp.Click(css(".co-dups-link a")), chromedp.WaitVisible(css(row)))
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#company-duplicates tbody tr").length`)); n != 1 {
		t.Fatalf("the duplicates of one company list %d groups", n)
	}
	do(t, ctx, chromedp.Navigate(base+"/crm/companies/duplicates"), chromedp.WaitVisible(css(row)))
	do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: "center"})`, row)))
	shotAt(t, ctx, "company-duplicates", 1440, 900)
	shotAt(t, ctx, "company-duplicates", 390, 844)

	// Merge… keeps the one with the most customers first; keeping the
	// other instead says what moves and what it gains.
	plan := `document.querySelector("#co-merge [data-slot=plan]").textContent`
	do(t, ctx, chromedp.Click(css(row+" [data-merge-group]")), chromedp.WaitVisible(css("#co-merge")))
	get(t, ctx, chromedp.Poll[bool](plan+`.includes("1 customer move to QUILLONEX GmbH")`))
	do(t, ctx, chromedp.Click(css(fmt.Sprintf(`#co-merge input[name="keep"][value="%d"]`, keep))))
	get(t, ctx, chromedp.Poll[bool](plan+`.includes("3 customers move to Quillonex")`))
	if p := get(t, ctx, chromedp.Evaluate[string](plan)); !strings.Contains(p, "Quillonex gains the domain quillonex.de") || !strings.Contains(p, "QUILLONEX GmbH is archived and points to Quillonex") {
		t.Fatalf("the preview says %q", p)
	}
	if b := textOf(t, ctx, "#co-merge [data-merge-go]"); b != "Merge 2 companies" {
		t.Fatalf("the button says %q", b)
	}
	shotAt(t, ctx, "company-merge-dialog", 1440, 900)
	shotAt(t, ctx, "company-merge-dialog", 390, 844)

	do(t, ctx, chromedp.Click(css("#co-merge [data-merge-go]")), chromedp.WaitVisible(css("#co-merge-done")))
	if s := textOf(t, ctx, "#co-merge-done"); !strings.Contains(s, "Merged QUILLONEX GmbH into Quillonex: 3 customers moved.") {
		t.Fatalf("after the merge the page says %q", s)
	}
	if get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector(%q)`, row))) {
		t.Fatal("the merged group is still listed")
	}
	shotAt(t, ctx, "company-merge-done", 1440, 900)

	// the kept company: four customers, the domain, the log entry
	do(t, ctx, chromedp.Click(css("#co-merge-done a")), chromedp.WaitVisible(css("[data-company-id]")))
	page := textOf(t, ctx, "main")
	for _, want := range []string{"4 active customers", "Quillonex Person 0", "QUILLONEX Person 2", "merged QUILLONEX GmbH into this company (3 customers moved); its domain became quillonex.de"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the kept company's page lacks %q:\n%s", want, page)
		}
	}
	if v := get(t, ctx, chromedp.Value(css("#co-domain"))); v != "quillonex.de" {
		t.Fatalf("the kept company's domain is %q", v)
	}
	shotAt(t, ctx, "company-merge-kept", 1440, 900)
	// the merged one points to it
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/crm/companies/%d", base, dup)), chromedp.WaitVisible(css(".co-merged-banner")))
	shotAt(t, ctx, "company-merged", 390, 844)
	if s := textOf(t, ctx, ".co-merged-banner"); !strings.Contains(s, "Merged into Quillonex") {
		t.Fatalf("the merged company says %q", s)
	}
	if href := get(t, ctx, chromedp.Evaluate[string](`document.querySelector(".co-merged-banner a").getAttribute("href")`)); href != fmt.Sprintf("/crm/companies/%d", keep) {
		t.Fatalf("the merged company links to %q", href)
	}
}
