package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// confirmIfAsked presses the confirmation's OK when an action on every
// matching customer asks for one (issue 12, item 3).
const confirmIfAsked = `(() => { const d = document.getElementById("bulk-confirm"); if (d && d.open) d.querySelector("[value=ok]").click(); return true })()`

// TestTableRefreshesAfterBackgroundJob (issue 12, item 4): when a bulk job
// over every matching customer ends, the table shows its outcome without a
// reload: the archived rows are gone and the count says so.
func TestTableRefreshesAfterBackgroundJob(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=FR"), chromedp.WaitVisible(css("#customer-table tbody tr")),
		chromedp.Click(css("#check-page")), chromedp.WaitVisible(css("#bulkbar")), chromedp.Click(css("#select-all-matching")),
		chromedp.Click(css(`[data-bulk="archive"]`)))
	get(t, ctx, chromedp.Evaluate[bool](confirmIfAsked))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("bulk-progress").dataset.done === "done"`))
	if n := rowCount(t, ctx); n != 0 {
		t.Errorf("%d archived rows still listed after the job ended", n)
	}
	if c := textOf(t, ctx, "#match-count"); c != "0" {
		t.Errorf("the count still says %q after the job ended", c)
	}
	if n := textOf(t, ctx, "#bulkbar"); !get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("bulkbar").hidden`)) {
		t.Errorf("the selection stays after the job: %q", n)
	}
	screenshot(t, ctx, "bulk-job-refreshed")
}

// TestArchiveAllMatchingConfirmThenUndo (issue 12, item 3): archiving every
// matching customer asks first with the count; after the job the table is
// refreshed, "Recent bulk actions" lists it with Undo, and Undo brings the
// rows back.
func TestArchiveAllMatchingConfirmThenUndo(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=DE"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	count := textOf(t, ctx, "#match-count")
	rows := rowCount(t, ctx)
	do(t, ctx, chromedp.Click(css("#check-page")), chromedp.WaitVisible(css("#bulkbar")), chromedp.Click(css("#select-all-matching")),
		chromedp.Click(css(`[data-bulk="archive"]`)), chromedp.WaitVisible(css("#bulk-confirm")))
	if s := textOf(t, ctx, "#bulk-confirm h2"); s != "Archive "+count+" customers?" {
		t.Fatalf("the confirmation asks %q, want %q", s, "Archive "+count+" customers?")
	}
	screenshot(t, ctx, "bulk-confirm")
	// Cancel changes nothing
	do(t, ctx, chromedp.Click(css(`#bulk-confirm button[value=cancel]`)), chromedp.WaitNotVisible(css("#bulk-confirm")))
	if n := rowCount(t, ctx); n != rows || !get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("bulk-progress").hidden`)) {
		t.Fatalf("a cancelled confirmation started something: %d rows", n)
	}
	do(t, ctx, chromedp.Click(css(`[data-bulk="archive"]`)), chromedp.WaitVisible(css("#bulk-confirm")),
		chromedp.Click(css(`#bulk-confirm button[value=ok]`)), chromedp.WaitVisible(css("#bulk-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("bulk-progress").dataset.done === "done"`))
	if n, c := rowCount(t, ctx), textOf(t, ctx, "#match-count"); n != 0 || c != "0" {
		t.Fatalf("after the archive job: %d rows, count %q", n, c)
	}
	recent := textOf(t, ctx, "#bulk-recent")
	if !strings.Contains(recent, "Archived "+count+" customers") {
		t.Fatalf("recent bulk actions say %q", recent)
	}
	screenshot(t, ctx, "bulk-archived-recent")
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	screenshot(t, ctx, "bulk-archived-recent-390")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))

	do(t, ctx, chromedp.Click(css(`#bulk-recent [data-undo]`)))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("match-count").textContent.trim() === "`+count+`" && document.querySelectorAll("#customer-table tbody tr").length > 0 && document.getElementById("bulk-progress").dataset.done === "done"`))
	if n := rowCount(t, ctx); n != rows {
		t.Fatalf("after the undo %d rows, before %d", n, rows)
	}
	if s := textOf(t, ctx, "#bulk-progress"); !strings.Contains(s, "Undone: finished") || !strings.Contains(s, "undone "+count) {
		t.Fatalf("the undo's progress says %q", s)
	}
	if s := textOf(t, ctx, "#bulk-recent"); !strings.Contains(s, "Undone") {
		t.Fatalf("recent bulk actions after the undo: %q", s)
	}
	screenshot(t, ctx, "bulk-undone")
}
