package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestBulkTagAllMatchingThenMerge(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	// Every German customer, tagged in one go: select the page, then all matching.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=DE"), chromedp.WaitVisible(css("#customer-table tbody tr")),
		chromedp.Click(css("#check-page")), chromedp.WaitVisible(css("#bulkbar")))
	screenshot(t, ctx, "bulk-bar")
	do(t, ctx, chromedp.Click(css("#select-all-matching")))
	if n := textOf(t, ctx, "#bulk-n"); !strings.HasPrefix(n, "All ") {
		t.Fatalf("selection says %q", n)
	}
	do(t, ctx, chromedp.Click(css(`[data-bulk-dialog="tag"]`)), chromedp.WaitVisible(css("#bt-tags")),
		chromedp.SendKeys(css("#bt-tags"), "Berlin fair"), chromedp.Click(css(`#bulk-tag button[type=submit]`)),
		chromedp.WaitVisible(css("#bulk-confirm")), chromedp.Click(css(`#bulk-confirm button[value=ok]`)),
		chromedp.WaitVisible(css("#bulk-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("bulk-progress").dataset.done === "done"`))
	if s := textOf(t, ctx, "#bulk-progress"); !strings.Contains(s, "finished") {
		t.Fatalf("progress %q", s)
	}
	screenshot(t, ctx, "bulk-tag-done")
	// the tag is now a filter that finds them all
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=DE"), chromedp.WaitVisible(css("#match-count")))
	de := textOf(t, ctx, "#match-count")
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?tag=Berlin+fair"), chromedp.WaitVisible(css("#match-count")))
	if tagged := textOf(t, ctx, "#match-count"); tagged != de {
		t.Fatalf("%s tagged, %s German customers", tagged, de)
	}

	// Merge two customers: pick, preview, then the second confirmation.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?owner=none"), chromedp.WaitVisible(css("#customer-table tbody tr")),
		chromedp.Click(css("#customer-table tbody tr:nth-child(1) .row-check")),
		chromedp.Click(css("#customer-table tbody tr:nth-child(2) .row-check")),
		chromedp.Click(css("#bulk-merge")), chromedp.WaitVisible(css("#merge-pick")))
	// the table is newest first, and the oldest is kept by default: row 1 merges into row 2
	merged := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#customer-table tbody tr:nth-child(1)").dataset.name`))
	mergedID := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#customer-table tbody tr:nth-child(1)").dataset.id`))
	do(t, ctx, chromedp.Click(css("[data-merge-preview]")), chromedp.WaitVisible(css("#merge-pick .merge-plan")))
	screenshot(t, ctx, "merge-preview")
	do(t, ctx, chromedp.Click(css("[data-merge-next]")), chromedp.WaitVisible(css("#merge-confirm")))
	if s := textOf(t, ctx, "#merge-confirm"); !strings.Contains(s, "This cannot be undone") || !strings.Contains(s, "Download a CSV") {
		t.Fatalf("confirmation says %q", s)
	}
	screenshot(t, ctx, "merge-confirm")
	do(t, ctx, chromedp.Click(css(`#merge-confirm button[value=merge]`)), chromedp.WaitVisible(css("#drawer .drawer-head")))
	do(t, ctx, chromedp.Click(css(`#drawer [data-tab="activity"]`)), chromedp.WaitVisible(css("#activity-list")))
	if acts := textOf(t, ctx, "#activity-list"); !strings.Contains(acts, "merged "+merged+" into this customer") {
		t.Fatalf("primary's activity %q", acts)
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#customer-table tr[data-id="`+mergedID+`"]').length`)); n != 0 {
		t.Fatalf("%s is still listed after being merged", merged)
	}
	screenshot(t, ctx, "merged")
}
