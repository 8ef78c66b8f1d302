package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// Issue 12, item 7: Company, Owner and Score sort from their headers, both
// ways, and the rows come in that order.
func TestTableSortsCompanyOwnerScore(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))

	for _, col := range []struct{ kind, sort string }{{"company", "company"}, {"owner", "owner"}, {"score", "score"}} {
		for _, dir := range []string{"ascending", "descending"} {
			do(t, ctx,
				chromedp.Click(css(fmt.Sprintf(`th.col-%s a.sort`, col.kind))),
				chromedp.WaitVisible(css(fmt.Sprintf(`th.col-%s[aria-sort=%q]`, col.kind, dir))),
				chromedp.WaitVisible(css("#customer-table tbody tr")),
			)
			loc, _ := url.Parse(get(t, ctx, chromedp.Location()))
			want := col.sort
			if dir == "descending" {
				want = "-" + want
			}
			if got := loc.Query().Get("sort"); got != want {
				t.Fatalf("%s %s: the URL sorts by %q", col.kind, dir, got)
			}
			if n := rowCount(t, ctx); n != 50 {
				t.Fatalf("%s %s: %d rows", col.kind, dir, n)
			}
			cells := get(t, ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => {
				const i = [...document.querySelectorAll("#customer-table thead th")].findIndex(th => th.classList.contains("col-%s"));
				return [...document.querySelectorAll("#customer-table tbody tr")].map(r => {
					const td = r.children[i];
					return td.querySelector(".badge-muted, .muted") ? "" : td.textContent.trim();
				});
			})()`, col.kind)))
			checkSorted(t, col.kind+" "+dir, cells, col.kind == "score", dir == "descending")
			screenshot(t, ctx, "table-sort-"+col.kind+"-"+dir)
		}
	}

	// the URL's sort is accepted, never an error page
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?sort=score"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	if n := rowCount(t, ctx); n != 50 {
		t.Fatalf("?sort=score shows %d rows", n)
	}
}

// checkSorted checks values are in order with the empty ones last.
func checkSorted(t *testing.T, what string, vals []string, numeric, desc bool) {
	t.Helper()
	seenEmpty := false
	var prev string
	for i, v := range vals {
		if v == "" {
			seenEmpty = true
			continue
		}
		if seenEmpty {
			t.Fatalf("%s: %q after an empty value (row %d): %q", what, v, i+1, vals)
		}
		if i > 0 && prev != "" {
			var c int
			if numeric {
				a, _ := strconv.Atoi(prev)
				b, _ := strconv.Atoi(v)
				c = a - b
			} else {
				c = strings.Compare(strings.ToLower(prev), strings.ToLower(v))
			}
			if desc {
				c = -c
			}
			if c > 0 {
				t.Fatalf("%s: %q before %q (row %d): %q", what, prev, v, i+1, vals)
			}
		}
		prev = v
	}
	if slices.Index(vals, "") == 0 {
		t.Fatalf("%s: the page starts with empty values: %q", what, vals)
	}
}

// Issue 12, item 8: the pager says which rows are shown, and offers 25, 50
// or 100 rows per page, kept while paging.
func TestTablePositionAndPageSize(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	total := textOf(t, ctx, "#match-count")
	if got := textOf(t, ctx, "#page-position"); got != "1-50 of "+total {
		t.Fatalf("first page: %q, want %q", got, "1-50 of "+total)
	}
	do(t, ctx, chromedp.Click(css("#next-page")), chromedp.WaitVisible(css("#prev-page")))
	if got := textOf(t, ctx, "#page-position"); got != "51-100 of "+total {
		t.Fatalf("second page: %q, want %q", got, "51-100 of "+total)
	}
	screenshot(t, ctx, "table-page-2")
	// Previous is a disabled span only on the first page: wait for that page, not for the old one to leave
	do(t, ctx, chromedp.Click(css("#prev-page")), chromedp.WaitVisible(css(`.pager-links span[aria-disabled="true"]`)))
	if got := textOf(t, ctx, "#page-position"); got != "1-50 of "+total {
		t.Fatalf("back on the first page: %q", got)
	}

	// 50 becomes a link only on the page the click opens
	do(t, ctx, chromedp.Click(css(`#page-sizes a[href*="limit=25"]`)), chromedp.WaitVisible(css(`#page-sizes a[href*="limit=50"]`)))
	if n := rowCount(t, ctx); n != 25 {
		t.Fatalf("25 rows chosen, %d shown", n)
	}
	if got := textOf(t, ctx, `#page-sizes [aria-current]`); got != "25" {
		t.Fatalf("the current page size reads %q", got)
	}
	do(t, ctx, chromedp.Click(css("#next-page")), chromedp.WaitVisible(css("#prev-page")))
	loc, _ := url.Parse(get(t, ctx, chromedp.Location()))
	if loc.Query().Get("limit") != "25" || rowCount(t, ctx) != 25 {
		t.Fatalf("the page size is not kept by Next: %s", loc)
	}
	if got := textOf(t, ctx, "#page-position"); got != "26-50 of "+total {
		t.Fatalf("second page of 25: %q", got)
	}
	// the row links keep the page size too
	if href := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#customer-table .col-name a").getAttribute("href")`)); !strings.Contains(href, "limit=25") {
		t.Fatalf("a row's link drops the page size: %s", href)
	}
	do(t, ctx, chromedp.Click(css(`#page-sizes a[href*="limit=100"]`)), chromedp.WaitVisible(css(`#customer-table tbody tr:nth-child(100)`)))
	if got := textOf(t, ctx, "#page-position"); got != "1-100 of "+total {
		t.Fatalf("100 rows: %q", got)
	}
	screenshot(t, ctx, "table-100-rows")
}

// Issue 12, item 8: at 390 px the table scrolls sideways and the checkbox
// and the name stay in view.
func TestTableStickyColumnsOnPhone(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	pos := func() []float64 {
		return get(t, ctx, chromedp.Evaluate[[]float64](`(() => {
			const wrap = document.querySelector(".table-wrap").getBoundingClientRect().left;
			const r = document.querySelector("#customer-table tbody tr");
			return [r.querySelector(".col-check").getBoundingClientRect().left - wrap,
			        r.querySelector(".col-name").getBoundingClientRect().left - wrap,
			        document.querySelector(".table-wrap").scrollWidth - document.querySelector(".table-wrap").clientWidth];
		})()`))
	}
	before := pos()
	if before[2] < 200 {
		t.Fatalf("the table does not scroll sideways at 390 px (%v px more)", before[2])
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(".table-wrap").scrollLeft = 400; undefined`))
	after := pos()
	if after[0] < -1 || after[0] > 2 || after[1] > 120 || after[1] < 30 {
		t.Fatalf("scrolled 400 px: checkbox at %.0f px, name at %.0f px from the table's left (before: %.0f, %.0f)", after[0], after[1], before[0], before[1])
	}
	// what is shown there is the name, not something scrolled under it
	hit := get(t, ctx, chromedp.Evaluate[string](`(() => {
		const td = document.querySelector("#customer-table tbody tr .col-name").getBoundingClientRect();
		const el = document.elementFromPoint(td.left + 10, td.top + td.height / 2);
		return el.closest("td") ? el.closest("td").className : el.tagName;
	})()`))
	if !strings.Contains(hit, "col-name") {
		t.Fatalf("at the name's place the page shows %q", hit)
	}
	if w := get(t, ctx, chromedp.Evaluate[int](`window.innerWidth`)); w != 390 {
		t.Fatalf("the window is %d px wide", w)
	}
	// what the window shows (a full-page picture would lay the page out anew, wider)
	png := get(t, ctx, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join("screenshots", "table-sticky-390.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	screenshot(t, ctx, "table-sticky-1440")
}

// Issue 12, item 9: "weiss" and "weiß" find the same customers, and a whole
// e-mail address shows its customer first.
func TestSearchFoldsAndExactEmailFirst(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	// two customers whose e-mails share every word: the newer one comes first by default
	for _, c := range [][2]string{{"Ida Exact", "ida.weiss@e2e-fold.com"}, {"Ida Newer", "ida.weiss@e2e-fold.com.au"}} {
		status := get(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch("/api/v1/customers", {method: "POST",
			headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content},
			body: JSON.stringify({full_name: %q, contact: {channel: "email", value: %q}})}).then(r => r.status)`, c[0], c[1]),
			chromedp.EvalAwaitPromise))
		if status != 201 && status != 200 {
			t.Fatalf("creating %s: HTTP %d", c[0], status)
		}
	}
	search := func(q string) (string, []string) {
		do(t, ctx, chromedp.Navigate(base+"/crm/customers?q="+url.QueryEscape(q)), chromedp.WaitVisible(css("#match-count")))
		return textOf(t, ctx, "#match-count"), get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table .col-name .name")].map(a => a.getAttribute("href").split("?")[0]).sort()`))
	}
	n1, ids1 := search("weiss")
	screenshot(t, ctx, "search-weiss")
	n2, ids2 := search("weiß")
	screenshot(t, ctx, "search-weiss-eszett")
	if n1 != n2 || !slices.Equal(ids1, ids2) || len(ids1) < 3 {
		t.Fatalf(`"weiss" finds %s (%d shown), "weiß" %s (%d shown)`, n1, len(ids1), n2, len(ids2))
	}
	n3, _ := search("WEISS")
	if n3 != n1 {
		t.Fatalf(`"WEISS" finds %s, "weiss" %s`, n3, n1)
	}
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?q="+url.QueryEscape("ida.weiss@e2e-fold.com")), chromedp.WaitVisible(css("#customer-table tbody tr")))
	names := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table .col-name .name")].map(a => a.textContent.trim())`))
	if len(names) < 2 || names[0] != "Ida Exact" {
		t.Fatalf("the exact e-mail's customer is not first: %q", names)
	}
	screenshot(t, ctx, "search-exact-email")
}
