package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// The product at a phone's width (390x844) and a desktop's (1440x900): no
// page scrolls sideways (only the table, inside itself), the main menu is a
// disclosure button on the phone, the table keeps its checkbox and name in
// view, and the close button of the drawer and of every dialog is on screen.
func TestResponsiveLayout(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	for _, size := range []struct {
		w, h   int64
		narrow bool
	}{{390, 844, true}, {1440, 900, false}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			name := func(s string) string { return fmt.Sprintf("responsive-%d-%s", size.w, s) }
			do(t, ctx, chromedp.EmulateViewport(size.w, size.h))

			// The table page.
			do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")))
			fits(t, ctx, "the customer table")
			if size.narrow {
				// The navigation is a menu button: a disclosure that Esc closes.
				if shown(t, ctx, ".sidenav") {
					t.Fatal("the side navigation takes the screen at a phone's width")
				}
				if !shown(t, ctx, "#nav-toggle") || attr(t, ctx, "#nav-toggle", "aria-expanded") != "false" {
					t.Fatal("no closed menu button at a phone's width")
				}
				do(t, ctx, chromedp.Click(css("#nav-toggle")), chromedp.WaitVisible(css(".sidenav")))
				if attr(t, ctx, "#nav-toggle", "aria-expanded") != "true" {
					t.Fatal("the open menu button does not say so (aria-expanded)")
				}
				inView(t, ctx, `.sidenav a[href="/settings"]`)
				fits(t, ctx, "the open menu")
				screenshot(t, ctx, name("menu"))
				do(t, ctx, chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(css(".sidenav")))
				if attr(t, ctx, "#nav-toggle", "aria-expanded") != "false" || !get(t, ctx, chromedp.Evaluate[bool](`document.activeElement.id === "nav-toggle"`)) {
					t.Fatal("Esc did not close the menu and return focus to its button")
				}
				// The other columns scroll inside the table; the checkbox and the name stay.
				if !get(t, ctx, chromedp.Evaluate[bool](`(() => { const w = document.querySelector(".table-wrap"); return w.scrollWidth > w.clientWidth; })()`)) {
					t.Fatal("the table does not scroll sideways inside itself")
				}
				get(t, ctx, chromedp.Evaluate[bool](`(() => { const w = document.querySelector(".table-wrap"); w.scrollLeft = w.scrollWidth; return true; })()`))
				for _, cell := range []string{"#customer-table tbody tr:first-child td.col-check", "#customer-table tbody tr:first-child td.col-name"} {
					inView(t, ctx, cell)
				}
				screenshot(t, ctx, name("table-scrolled"))
				get(t, ctx, chromedp.Evaluate[bool](`(() => { document.querySelector(".table-wrap").scrollLeft = 0; return true; })()`))
			} else {
				if !shown(t, ctx, ".sidenav") || shown(t, ctx, "#nav-toggle") {
					t.Fatal("on a desktop the side navigation shows and the menu button does not")
				}
			}
			screenshot(t, ctx, name("table"))

			// The filter panel and the column menu fit the window.
			for _, pop := range []struct{ summary, body, end string }{ // summary: the details element
				{"#filters", "#filters .popover-body", `#filters button[type=submit]`},
				{"#columns", "#columns .popover-body", `#columns .popover-actions .btn-primary`},
			} {
				do(t, ctx, chromedp.Click(css(pop.summary+" > summary")), chromedp.WaitVisible(css(pop.body)))
				insideX(t, ctx, pop.body)
				get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.querySelector(%q).scrollIntoView({block: "nearest"}); return true; })()`, pop.end)))
				inView(t, ctx, pop.end)
				fits(t, ctx, pop.body)
				screenshot(t, ctx, name(strings.Trim(pop.summary, "#")))
				do(t, ctx, chromedp.Click(css(pop.summary+" > summary")))
				get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`!document.querySelector(%q).open`, pop.summary)))
			}

			// Every dialog of the page (add customer, bulk tag and segment, merge, suppress...).
			seen := map[string]bool{}
			dialogsFit(t, ctx, "the customer table", name("dialog"), seen)

			// The bulk bar, and the merge dialogs from it.
			do(t, ctx, chromedp.Click(css("#customer-table tbody tr:nth-child(1) .row-check")),
				chromedp.Click(css("#customer-table tbody tr:nth-child(2) .row-check")), chromedp.WaitVisible(css("#bulkbar")))
			for _, sel := range []string{"#bulk-clear", `#bulkbar [data-bulk="claim"]`, "#bulk-merge", "#bulk-export"} {
				inView(t, ctx, sel)
			}
			fits(t, ctx, "the bulk bar")
			screenshot(t, ctx, name("bulkbar"))
			do(t, ctx, chromedp.Click(css("#bulk-merge")), chromedp.WaitVisible(css("#merge-pick")))
			inView(t, ctx, "#merge-pick .modal-head [data-close]")
			do(t, ctx, chromedp.Click(css("[data-merge-preview]")), chromedp.WaitVisible(css("#merge-pick .merge-plan")))
			inView(t, ctx, "#merge-pick .modal-head [data-close]")
			insideX(t, ctx, "#merge-pick")
			screenshot(t, ctx, name("merge-pick"))
			do(t, ctx, chromedp.Click(css("[data-merge-next]")), chromedp.WaitVisible(css("#merge-confirm")))
			inView(t, ctx, "#merge-confirm [data-close]")
			inView(t, ctx, `#merge-confirm button[value=merge]`)
			screenshot(t, ctx, name("merge-confirm"))
			do(t, ctx, chromedp.Click(css("#merge-confirm [data-close]")), chromedp.WaitNotVisible(css("#merge-confirm")),
				chromedp.WaitVisible(css("#merge-pick")), chromedp.Click(css("#merge-pick .modal-head [data-close]")), chromedp.WaitNotVisible(css("#merge-pick")),
				chromedp.Click(css("#bulk-clear")), chromedp.WaitNotVisible(css("#bulkbar")))

			// The drawer: the whole screen on a phone, its close button in view.
			do(t, ctx, chromedp.Click(css("#customer-table tbody tr:nth-child(3) td.col-name")), chromedp.WaitVisible(css("#drawer .drawer-head")))
			inView(t, ctx, "#drawer [data-close-drawer]")
			fits(t, ctx, "the drawer")
			if size.narrow {
				full := get(t, ctx, chromedp.Evaluate[bool](`(() => { const r = document.getElementById("drawer").getBoundingClientRect();
					return r.left <= 0 && r.right >= innerWidth && r.top <= 0 && r.bottom >= innerHeight; })()`))
				if !full {
					t.Fatal("the drawer does not take the whole screen on a phone")
				}
			}
			for _, tab := range []string{"profile", "activity", "messages", "records"} {
				inView(t, ctx, fmt.Sprintf(`#drawer [data-tab=%q]`, tab))
			}
			screenshot(t, ctx, name("drawer"))
			do(t, ctx, chromedp.Click(css(`#drawer [data-tab="records"]`)))
			fits(t, ctx, "the drawer's records")
			screenshot(t, ctx, name("drawer-records"))
			do(t, ctx, chromedp.Click(css(`#drawer [data-tab="messages"]`)), chromedp.WaitVisible(css("#drawer [data-compose]")))
			dialogsFit(t, ctx, "the drawer", name("drawer-dialog"), seen)
			do(t, ctx, chromedp.Click(css("#drawer [data-close-drawer]")), chromedp.WaitNotVisible(css("#drawer")))

			// The import wizard, step by step.
			do(t, ctx, chromedp.Navigate(base+"/crm/imports?new=1"), chromedp.WaitVisible(css("#dropzone")))
			fits(t, ctx, "the upload step")
			screenshot(t, ctx, name("import-upload"))
			file := "Given Name;Family Name;E-mail Address;Organization Name;Labels;Notes\n" +
				"Wilma;Wizard;wilma.wizard@example.com;Wizard & Co;e2e, import;a rather long note that goes on and on\n" +
				"Walt;Wizard;not-an-address;Wizard & Co;;second\n"
			get(t, ctx, chromedp.Evaluate[bool](`(() => { const dt = new DataTransfer();
				dt.items.add(new File([`+"`"+file+"`"+`], "wizards.csv", {type: "text/csv"}));
				document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
				return true; })()`))
			do(t, ctx, chromedp.WaitVisible(css(`.map-table select[data-column="Notes"]`)))
			fits(t, ctx, "the mapping step")
			inView(t, ctx, `.map-table select[data-column="Given Name"]`)
			screenshot(t, ctx, name("import-map"))
			do(t, ctx, chromedp.Click(css("#to-preview")), chromedp.WaitVisible(css(".preview-table tbody tr")))
			fits(t, ctx, "the preview step")
			screenshot(t, ctx, name("import-preview"))
			do(t, ctx, chromedp.Click(css("#to-submit")), chromedp.WaitVisible(css("#start-import")))
			fits(t, ctx, "the submit step")
			inView(t, ctx, "#start-import")
			screenshot(t, ctx, name("import-submit"))

			// Settings, and the other pages of the menu.
			do(t, ctx, chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#users")))
			fits(t, ctx, "settings")
			screenshot(t, ctx, name("settings"))
			dialogsFit(t, ctx, "settings", name("settings-dialog"), map[string]bool{})
			for _, page := range []string{"/crm/segments", "/crm/imports", "/crm/companies"} {
				do(t, ctx, chromedp.Navigate(base+page), chromedp.WaitVisible(css("#main")))
				fits(t, ctx, page)
			}
		})
	}
}

// fits fails the test when the page, or its content area, is wider than the
// window: a page that scrolls sideways. Only the table may, inside itself.
func fits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	problem := get(t, ctx, chromedp.Evaluate[string](`(() => {
		const d = document.documentElement, m = document.getElementById("main"), out = [];
		if (d.scrollWidth > innerWidth) out.push("the page is " + d.scrollWidth + " px wide in a " + innerWidth + " px window");
		if (m && m.scrollWidth > m.clientWidth) out.push("the content is " + m.scrollWidth + " px wide in " + m.clientWidth + " px");
		if (!out.length) return "";
		const wide = [...document.querySelectorAll("body *")].filter((e) => {
			const r = e.getBoundingClientRect();
			return r.width > 0 && r.right > innerWidth + 1 && !e.closest(".table-wrap, dialog:not([open])");
		}).slice(0, 6).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " → " + Math.round(e.getBoundingClientRect().right));
		return out.join("; ") + " (too wide: " + wide.join(", ") + ")";
	})()`))
	if problem != "" {
		failShot(t, ctx)
		t.Fatalf("%s scrolls sideways: %s", what, problem)
	}
}

// inView fails the test unless sel is wholly inside the window and on top
// there (a click on its middle reaches it).
func inView(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	problem := get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const e = [...document.querySelectorAll(%q)].find((x) => x.getClientRects().length);
		if (!e) return "not shown";
		const r = e.getBoundingClientRect();
		if (r.width < 1 || r.height < 1) return "has no size";
		if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
			return "is at " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(",") + " in a " + innerWidth + "x" + innerHeight + " window";
		const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!at || !(e === at || e.contains(at) || at.contains(e) && at.tagName === "LABEL")) return "is covered by " + (at ? at.outerHTML.slice(0, 120) : "nothing");
		return "";
	})()`, sel)))
	if problem != "" {
		failShot(t, ctx)
		t.Fatalf("%s %s", sel, problem)
	}
}

// insideX fails the test unless sel lies between the window's left and right edges.
func insideX(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	r := get(t, ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left, r.right, innerWidth]; })()`, sel)))
	if r[0] < -0.5 || r[1] > r[2]+0.5 {
		failShot(t, ctx)
		t.Fatalf("%s spans %.0f to %.0f px in a %.0f px window", sel, r[0], r[1], r[2])
	}
}

// dialogsFit opens each dialog of the page in turn: each lies inside the
// window and its close button (the × of its head, or Cancel) is in view.
// Dialogs in seen were checked before (on the same page); each checked one joins it.
func dialogsFit(t *testing.T, ctx context.Context, page, shot string, seen map[string]bool) {
	t.Helper()
	ids := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("dialog")].map((d) => d.id)`))
	if len(ids) == 0 {
		t.Fatalf("%s has no dialog to check", page)
	}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.getElementById(%q).showModal(); return true; })()`, id)))
		close := fmt.Sprintf("#%s .modal-head [data-close], #%s [data-close]", id, id)
		if !get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector(%q)`, close))) {
			close = fmt.Sprintf("#%s button[value=cancel], #%s .modal-foot .btn:not(.btn-primary):not(.btn-danger)", id, id)
		}
		insideX(t, ctx, "#"+id)
		inView(t, ctx, close)
		fits(t, ctx, "dialog #"+id+" of "+page)
		screenshot(t, ctx, shot+"-"+id)
		get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.getElementById(%q).close(); return true; })()`, id)))
	}
}

// shown reports whether sel is rendered with a size.
func shown(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden"; })()`, sel)))
}

// attr is an attribute of sel ("" when missing).
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name)))
}
