package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// Issue 13, part 1: save a view from a filtered table, pin it, open it from
// the sidebar, change a filter ("modified"), Reset; a taken name is refused
// beside the field with what was typed kept. At a desktop's and a phone's width.
func TestSavedViews(t *testing.T) {
	ctx := browser(t, allow(`^400 POST /api/v1/views$`, "a taken view name, refused beside the field"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=DE&sort=name"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	filtered := textOf(t, ctx, "#match-count")

	// save it, shared
	do(t, ctx, chromedp.Click(css("#view-save")), chromedp.WaitVisible(css("#view-dialog")))
	if !focused(t, ctx, "#view-name-input") {
		t.Error("Save view does not focus the name")
	}
	do(t, ctx, chromedp.SendKeys(css("#view-name-input"), "German leads"), chromedp.Click(css("#view-shared")))
	screenshot(t, ctx, "views-save-dialog-1440")
	do(t, ctx, chromedp.Click(css("#view-dialog-submit")), chromedp.WaitVisible(css("#view-name")))
	if s := textOf(t, ctx, "#view-name"); s != "German leads" {
		t.Fatalf("the open view is %q", s)
	}
	loc, _ := url.Parse(get(t, ctx, chromedp.Location()))
	id := loc.Query().Get("view")
	if id == "" || loc.Query().Get("country") != "DE" || loc.Query().Get("sort") != "name" {
		t.Fatalf("the saved view opens at %s", loc)
	}
	if get(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("view-modified")`)) {
		t.Fatal("a just-saved view reads as modified")
	}

	// a taken name (any case): refused beside the field, the typed text kept
	do(t, ctx, chromedp.Click(css("#view-save")), chromedp.WaitVisible(css("#view-dialog")),
		chromedp.SendKeys(css("#view-name-input"), "german LEADS"), chromedp.Click(css("#view-shared")),
		chromedp.Click(css("#view-dialog-submit")), chromedp.WaitVisible(css("#view-name-error")))
	if s := textOf(t, ctx, "#view-name-error"); !strings.Contains(s, "already") {
		t.Errorf("the name error says %q", s)
	}
	if v := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("view-name-input").value`)); v != "german LEADS" {
		t.Errorf("the typed name became %q", v)
	}
	if !focused(t, ctx, "#view-name-input") {
		t.Error("the refused name is not focused")
	}
	screenshot(t, ctx, "views-name-error-1440")
	do(t, ctx, chromedp.Click(css("#view-dialog [data-close]")))

	// pin it: it shows under Customers with its count
	menu(t, ctx, "#view-actions summary", `[data-view-act="pin"]`)
	do(t, ctx, chromedp.WaitVisible(css(`#nav-views a[data-view-id="`+id+`"] .nav-count:not(:empty)`)))
	if n := textOf(t, ctx, `#nav-views a[data-view-id="`+id+`"] .nav-count`); n != filtered {
		t.Errorf("the sidebar counts %q, the table %q", n, filtered)
	}

	// open it from the sidebar, on the plain table
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css(`#nav-views a[data-view-id="`+id+`"]`)))
	all := textOf(t, ctx, "#match-count")
	do(t, ctx, chromedp.Click(css(`#nav-views a[data-view-id="`+id+`"]`)), chromedp.WaitVisible(css("#view-name")),
		chromedp.WaitVisible(css(`#nav-views a[aria-current="page"]`)))
	if got := textOf(t, ctx, "#match-count"); got != filtered || got == all {
		t.Fatalf("the view opened with %s customers, want %s (all: %s)", got, filtered, all)
	}
	screenshot(t, ctx, "views-open-1440")

	// change a filter: modified, then Reset
	do(t, ctx, chromedp.Click(css(`.chips a[aria-label="Remove filter Country: Germany"]`)), chromedp.WaitVisible(css("#view-modified")))
	if got := textOf(t, ctx, "#match-count"); got != all {
		t.Errorf("without the country filter: %s customers, want %s", got, all)
	}
	present(t, ctx, "#view-update")
	screenshot(t, ctx, "views-modified-1440")
	do(t, ctx, chromedp.Click(css("#view-reset")), chromedp.WaitVisible(css("#view-name")))
	if get(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("view-modified")`)) {
		t.Fatal("Reset left the view modified")
	}
	if got := textOf(t, ctx, "#match-count"); got != filtered {
		t.Fatalf("after Reset: %s customers, want %s", got, filtered)
	}

	// a phone's width: the bar wraps, the pinned view is in the menu
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(css("#view-name")))
	screenshot(t, ctx, "views-open-390")
	do(t, ctx, chromedp.Click(css("#nav-toggle")), chromedp.WaitVisible(css(`#nav-views a[data-view-id="`+id+`"]`)))
	screenshot(t, ctx, "views-sidebar-390")
}
