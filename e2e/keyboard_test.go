package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/acme/crm/internal/seed"
)

// key presses one key (or types text) on whatever has the focus.
func key(t *testing.T, ctx context.Context, keys string, opts ...chromedp.KeyOption) {
	t.Helper()
	do(t, ctx, chromedp.KeyEvent(keys, opts...))
}

// focused answers whether the focused element matches a CSS selector.
func focused(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.activeElement?.matches(%q)`, sel)))
}

// waitFocus waits until the focus is on sel.
func waitFocus(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`!!document.activeElement?.matches(%q)`, sel)))
}

// tabTo presses Tab (Shift+Tab when back) until the focus is on sel, as a
// keyboard user walks the page; it fails after max presses.
func tabTo(t *testing.T, ctx context.Context, sel string, back bool, max int) {
	t.Helper()
	var opts []chromedp.KeyOption
	if back {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	for range max {
		key(t, ctx, kb.Tab, opts...)
		if focused(t, ctx, sel) {
			return
		}
	}
	failShot(t, ctx)
	t.Fatalf("%d presses of Tab did not reach %s (the focus is on %s)", max, sel,
		get(t, ctx, chromedp.Evaluate[string](`document.activeElement?.outerHTML.slice(0, 200) || "nothing"`)))
}

// TestKeyboardOnly: everything of the acceptance's keyboard path with key
// presses only (chromedp.KeyEvent, which dispatches key events; no mouse
// event is sent): sign in; the skip link; "?" lists the shortcuts; find a
// customer by search, open its drawer, claim it, add two tags, close back to
// its row; select three rows with x and tag them from the bulk bar.
func TestKeyboardOnly(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")

	// Sign in: type, Tab, type, Enter.
	do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")))
	tabTo(t, ctx, "#email", false, 5)
	key(t, ctx, seed.DemoAdminEmail)
	key(t, ctx, kb.Tab)
	key(t, ctx, seed.DemoPassword+kb.Enter)
	do(t, ctx, chromedp.WaitVisible(css(".sidenav")))

	// The first Tab of a page is the skip link; Enter on it moves the focus to the content.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?owner=none"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	key(t, ctx, kb.Tab)
	if !focused(t, ctx, "a.skip-link") {
		t.Fatal("the first Tab does not reach the skip link")
	}
	key(t, ctx, kb.Enter)
	waitFocus(t, ctx, "main#main")

	// "?" lists the shortcuts in a dialog that has the focus; Esc closes it.
	key(t, ctx, "?")
	do(t, ctx, chromedp.WaitVisible(css("#shortcuts")))
	waitFocus(t, ctx, "#shortcuts *")
	screenshot(t, ctx, "keyboard-shortcuts")
	key(t, ctx, kb.Escape)
	do(t, ctx, chromedp.WaitNotVisible(css("#shortcuts")))

	// Find an unclaimed customer by search ("/" goes to the search box).
	name := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#customer-table tbody tr").dataset.name`))
	key(t, ctx, "/")
	waitFocus(t, ctx, "#global-q")
	if value(t, ctx, "#global-q") == "/" { // chromedp sends the character apart from the keydown the page cancelled
		key(t, ctx, kb.Backspace)
	}
	key(t, ctx, name+kb.Enter)
	do(t, ctx, chromedp.WaitVisible(css("#customer-table tbody tr")))
	rowOf := fmt.Sprintf(`#customer-table tbody tr[data-name=%q]`, name)
	present(t, ctx, rowOf)
	for range 50 { // j walks the rows to it
		key(t, ctx, "j")
		if focused(t, ctx, rowOf) {
			break
		}
	}
	if !focused(t, ctx, rowOf) {
		t.Fatalf("j never reached the row of %s", name)
	}
	id := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.dataset.id`))

	// Enter opens the drawer and moves the focus into it.
	key(t, ctx, kb.Enter)
	waitFocus(t, ctx, "#drawer #drawer-name")
	screenshot(t, ctx, "keyboard-drawer")

	// Claim it: Tab to the Claim button, Enter; the focus stays in the drawer.
	tabTo(t, ctx, `#drawer .owner-actions [data-action="claim"]`, false, 40)
	key(t, ctx, kb.Enter)
	get(t, ctx, chromedp.Poll[bool](`document.querySelector("#drawer .drawer-title")?.textContent.includes("Owned by")`))
	waitFocus(t, ctx, "#drawer *")

	// Two tags, typed with Enter after each.
	tabTo(t, ctx, "#drawer #e-tags", false, 40)
	key(t, ctx, "kbd-one"+kb.Enter)
	get(t, ctx, chromedp.Poll[bool](`document.querySelectorAll("#drawer .tag-chips .chip").length >= 1`))
	waitFocus(t, ctx, "#drawer #e-tags")
	key(t, ctx, "kbd-two"+kb.Enter)
	get(t, ctx, chromedp.Poll[bool](`(() => { const tags = [...document.querySelectorAll("#drawer .tag-chips .chip")].map(c => c.firstChild.textContent);
		return tags.includes("kbd-one") && tags.includes("kbd-two"); })()`))

	// Esc closes the drawer and the focus is back on the row.
	for range 3 {
		key(t, ctx, kb.Escape)
		if get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("drawer").hidden`)) {
			break
		}
	}
	if !get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("drawer").hidden`)) {
		t.Fatalf("Esc did not close the drawer; the focus is on %s", get(t, ctx, chromedp.Evaluate[string](`document.activeElement?.outerHTML.slice(0, 200)`)))
	}
	if !focused(t, ctx, rowOf) {
		t.Fatalf("the closed drawer left the focus on %s, not on the row", get(t, ctx, chromedp.Evaluate[string](`document.activeElement?.outerHTML.slice(0, 200)`)))
	}

	// What the keyboard did, as the API tells it.
	owner := get(t, ctx, chromedp.Evaluate[string](`fetch("/api/v1/customers/`+id+`").then(r => r.json()).then(c => (c.owner?.email || "") + " " + c.tags.filter(t => t.startsWith("kbd-")).sort().join())`, chromedp.EvalAwaitPromise))
	if owner != seed.DemoAdminEmail+" kbd-one,kbd-two" {
		t.Fatalf("after claim and tags the customer says %q", owner)
	}

	// Three rows with x (j between them), then Tag… from the bulk bar.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?owner=none"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	key(t, ctx, "j")
	waitFocus(t, ctx, "#customer-table tbody tr:nth-child(1)")
	ids := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table tbody tr")].slice(0, 3).map(r => r.dataset.id)`))
	key(t, ctx, "x")
	key(t, ctx, "j")
	key(t, ctx, "x")
	key(t, ctx, "j")
	key(t, ctx, "x")
	if n := textOf(t, ctx, "#bulk-n"); n != "3" {
		t.Fatalf("after x on three rows the bulk bar says %q selected", n)
	}
	tabTo(t, ctx, `#bulkbar [data-bulk-dialog="tag"]`, true, 80)
	key(t, ctx, kb.Enter)
	do(t, ctx, chromedp.WaitVisible(css("#bulk-tag")))
	waitFocus(t, ctx, "#bt-tags") // the dialog's first field
	key(t, ctx, "kbd-bulk")
	screenshot(t, ctx, "keyboard-bulk-tag")
	key(t, ctx, kb.Enter)
	do(t, ctx, chromedp.WaitVisible(css(".toast"))) // shown by the page that reloads after the change
	if s := textOf(t, ctx, ".toast"); s != "Tagged 3 customers." {
		t.Fatalf("after the bulk tag the page says %q", s)
	}
	tagged := get(t, ctx, chromedp.Evaluate[[]string](`fetch("/api/v1/customers?tag=kbd-bulk&limit=10").then(r => r.json()).then(p => p.items.map(c => String(c.id)).sort())`, chromedp.EvalAwaitPromise))
	want := append([]string(nil), ids...)
	if fmt.Sprint(sorted(tagged)) != fmt.Sprint(sorted(want)) {
		t.Fatalf("tagged %v, selected %v", tagged, want)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
