package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/acme/crm/internal/seed"
)

// suggested waits until the open suggestions of the focused input are names
// (those of what is typed in full, not of the keys typed so far).
func suggested(t *testing.T, ctx context.Context, names ...string) {
	t.Helper()
	want, _ := json.Marshal(names)
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`document.activeElement.getAttribute("aria-expanded") === "true" &&
		JSON.stringify([...document.querySelectorAll('.combo-pop:not([hidden]) [role="option"] .combo-name')].map((e) => e.textContent)) === %q`, want)))
}

// The tag filter, the bulk bar's tag input and the drawer's ask for tags as
// the user types; the page itself carries none of them.
func TestTagPicker(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	total := textOf(t, ctx, "#match-count")
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#filters input[name="tag"][type="checkbox"], datalist#tag-list option').length`)); n != 0 {
		t.Fatalf("the page lists %d tags", n)
	}

	// Type, move with the arrow keys, choose with Enter: a chip, and the input empties.
	do(t, ctx, chromedp.Click(css("#filters summary")), chromedp.WaitVisible(css("#f-tag")), chromedp.Click(css("#f-tag")),
		chromedp.SendKeys(css("#f-tag"), "hot"))
	suggested(t, ctx, "Hot lead")
	do(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
	active := get(t, ctx, chromedp.Evaluate[string](`(() => { const id = document.getElementById("f-tag").getAttribute("aria-activedescendant");
		const o = id && document.getElementById(id); return o && o.getAttribute("aria-selected") === "true" ? o.textContent : ""; })()`))
	if !strings.HasPrefix(active, "Hot lead") {
		t.Fatalf("the active option is %q", active)
	}
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	get(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#filters .picked input[name="tag"]').length === 1`))
	if v := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("f-tag").value`)); v != "" {
		t.Fatalf("the input keeps %q after the choice", v)
	}

	// A second tag, chosen with the mouse; the one already chosen is not offered again.
	do(t, ctx, chromedp.SendKeys(css("#f-tag"), "Ch"))
	suggested(t, ctx, "Champion", "Churn risk")
	do(t, ctx, chromedp.Click(css(`.combo-pop:not([hidden]) [role="option"]:nth-child(2)`)))
	get(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#filters .picked input[name="tag"]').length === 2`))

	// Esc closes the suggestions, not the Filters popover.
	do(t, ctx, chromedp.SendKeys(css("#f-tag"), "d"))
	suggested(t, ctx, "Decision maker", "Do not call")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	screenshot(t, ctx, "tag-picker")
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	do(t, ctx, chromedp.Click(css("#f-tag")), chromedp.KeyEvent(kb.Backspace), chromedp.SendKeys(css("#f-tag"), "d"))
	suggested(t, ctx, "Decision maker", "Do not call")
	// what the window shows (a full-page picture would lay the page out anew, wider)
	png := get(t, ctx, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join("screenshots", "tag-picker-390.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.EmulateViewport(1280, 800))
	do(t, ctx, chromedp.KeyEvent(kb.Escape))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("f-tag").getAttribute("aria-expanded") === "false" && document.querySelector(".combo-pop").hidden`))
	if !get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("filters").open`)) {
		t.Fatal("Esc in the tag input closed the Filters popover")
	}
	do(t, ctx, chromedp.KeyEvent(kb.Backspace)) // the "d" typed

	// Apply: the URL names both tags and the table shows what the API counts for them.
	do(t, ctx, chromedp.Click(css(`#filters button[type=submit]`)), chromedp.WaitVisible(css(".chips")))
	u, _ := url.Parse(get(t, ctx, chromedp.Location()))
	if tags := slices.DeleteFunc(u.Query()["tag"], func(s string) bool { return s == "" }); !slices.Equal(tags, []string{"Hot lead", "Churn risk"}) {
		t.Fatalf("tags in the URL: %q (%s)", tags, u)
	}
	if chips := textOf(t, ctx, ".chips"); !strings.Contains(chips, "Tag: Hot lead") || !strings.Contains(chips, "Tag: Churn risk") {
		t.Fatalf("chips %q", chips)
	}
	filtered := textOf(t, ctx, "#match-count")
	want := get(t, ctx, chromedp.Evaluate[string](`fetch("/api/v1/customers?tag=Hot+lead&tag=Churn+risk&limit=1", { headers: { Accept: "application/json" } })
		.then((r) => r.json()).then((b) => b.total.toLocaleString("en"))`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if filtered == total || filtered != want {
		t.Fatalf("%s customers shown with the two tags, the API counts %s (of %s)", filtered, want, total)
	}
	screenshot(t, ctx, "tag-picker-filtered")

	// The chosen tags come back in the picker from the URL; one can be dropped there.
	do(t, ctx, chromedp.Click(css("#filters summary")), chromedp.WaitVisible(css("#f-tag")))
	if got := textOf(t, ctx, `#filters .picked[aria-label="Chosen tags"]`); !strings.Contains(got, "Hot lead") || !strings.Contains(got, "Churn risk") {
		t.Fatalf("picked %q", got)
	}
	do(t, ctx, chromedp.Click(css(`#filters .picked [aria-label="Remove tag Churn risk"]`)))
	get(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#filters .picked input[name="tag"]').length === 1`))
	do(t, ctx, chromedp.Click(css(`#filters button[type=submit]`)), chromedp.WaitVisible(css(".chips")))
	if u, _ := url.Parse(get(t, ctx, chromedp.Location())); u.Query().Get("tag") != "Hot lead" {
		t.Fatalf("after dropping one: %s", u)
	}

	// The bulk bar's tag input: the suggestion completes the name being typed,
	// Esc closes the suggestions and leaves the dialog open.
	do(t, ctx, chromedp.Click(css("#customer-table tbody tr:first-child .row-check")), chromedp.WaitVisible(css("#bulkbar")),
		chromedp.Click(css(`[data-bulk-dialog="tag"]`)), chromedp.WaitVisible(css("#bt-tags")),
		chromedp.SendKeys(css("#bt-tags"), "Summit 2026, vi"))
	suggested(t, ctx, "VIP")
	screenshot(t, ctx, "tag-picker-bulk")
	do(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("bt-tags").value === "Summit 2026, VIP, "`))
	do(t, ctx, chromedp.SendKeys(css("#bt-tags"), "w"))
	suggested(t, ctx, "Webinar")
	do(t, ctx, chromedp.KeyEvent(kb.Escape))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("bt-tags").getAttribute("aria-expanded") === "false"`))
	if !get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("bulk-tag").open`)) {
		t.Fatal("Esc in the tag input closed the dialog")
	}
	// a new tag is still created by the bulk bar
	do(t, ctx, chromedp.SetValue(css("#bt-tags"), "Summit 2026, VIP"), chromedp.Click(css(`#bulk-tag button[type=submit]`)))
	get(t, ctx, chromedp.Poll[bool](`!document.getElementById("bulk-tag").open`))
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?tag=Summit+2026"), chromedp.WaitVisible(css("#match-count")))
	if n := textOf(t, ctx, "#match-count"); n != "1" {
		t.Fatalf("%s customers tagged Summit 2026, want 1", n)
	}
}
