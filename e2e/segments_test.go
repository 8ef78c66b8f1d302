package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestSegmentsPageAndSend(t *testing.T) {
	ctx := browser(t, allow(`^422 POST /crm/segments$`, "a segment without a name is refused"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/segments"), chromedp.WaitVisible(css("#segments-table")))

	// An empty name is refused beside the field; a good one is created.
	do(t, ctx, chromedp.Click(css(`.segments-panel form button[type=submit]`)), chromedp.WaitVisible(css(".segments-panel .field-error")))
	do(t, ctx, chromedp.SendKeys(css("#seg-name"), "E2E attendees"), chromedp.Click(css(`.segments-panel form button[type=submit]`)),
		chromedp.WaitVisible(css(".toast")))
	if !strings.Contains(textOf(t, ctx, "#segments-table"), "E2E attendees") {
		t.Fatal("the new segment is not listed")
	}

	// Send to the first seeded segment; the job's progress runs to its result.
	do(t, ctx, chromedp.Click(css("#segments-table tbody tr:first-child [data-send-segment]")), chromedp.WaitVisible(css("#ss-subject")),
		chromedp.SendKeys(css("#ss-subject"), "Our spring news"), chromedp.SendKeys(css("#ss-body"), "Hello from the team."))
	screenshot(t, ctx, "segment-send")
	do(t, ctx, chromedp.Click(css(`#segment-send button[type=submit]`)), chromedp.WaitVisible(css("#send-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("send-progress").dataset.done === "true"`))
	if s := textOf(t, ctx, "#send-progress"); !strings.Contains(s, "Done.") || !strings.Contains(s, "skipped (suppressed)") {
		t.Fatalf("progress %q", s)
	}
	screenshot(t, ctx, "segment-sent")
}
