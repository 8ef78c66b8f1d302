package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// pageAPI calls the JSON API from the signed-in page (its session and CSRF
// token) and returns the answer's JSON, failing the test on a refusal.
func pageAPI[T any](t *testing.T, ctx context.Context, method, path string, body any) T {
	t.Helper()
	js := fmt.Sprintf(`(async () => {
		const res = await fetch(%q, {method: %q, headers: {"Content-Type": "application/json", Accept: "application/json",
			"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}, body: %s});
		const text = await res.text();
		if (!res.ok) throw new Error(res.status + " " + text);
		return text ? JSON.parse(text) : null;
	})()`, path, method, jsonBody(body))
	return get(t, ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

func jsonBody(body any) string {
	if body == nil {
		return "undefined"
	}
	return fmt.Sprintf("JSON.stringify(%s)", body)
}

// noOverlap fails the test when two of the boxes (selectors within one
// parent) overlap.
func noOverlap(t *testing.T, ctx context.Context, what string, sels ...string) {
	t.Helper()
	raw, _ := json.Marshal(sels)
	list := string(raw)
	problem := get(t, ctx, chromedp.Evaluate[string](`(() => { const sels = `+list+`;
		const boxes = sels.map((s) => { const e = document.querySelector(s); return e && e.getBoundingClientRect(); });
		for (let i = 0; i < boxes.length; i++) { if (!boxes[i] || !boxes[i].width) return sels[i] + " is not shown"; }
		for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
			const a = boxes[i], b = boxes[j];
			if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) return sels[i] + " overlaps " + sels[j];
		}
		return ""; })()`))
	if problem != "" {
		failShot(t, ctx)
		t.Fatalf("%s: %s", what, problem)
	}
}

// TestControlsLookRight checks, by their geometry, controls that CSS had
// broken: the bulk Segment dialog's radios, the tag chips' ×, the deal stage
// select, a suppressed contact's line, the column menu's score columns, the
// company drawer's title and URL, and creating a company from the drawer.
func TestControlsLookRight(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.EmulateViewport(1440, 900))

	t.Run("segment dialog radios", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")),
			chromedp.Click(css("#customer-table tbody tr:nth-child(1) .row-check")), chromedp.WaitVisible(css("#bulkbar")),
			chromedp.Click(css(`[data-bulk-dialog="segment"]`)), chromedp.WaitVisible(css("#bulk-segment")))
		screenshot(t, ctx, "controls-segment-dialog")
		boxes := get(t, ctx, chromedp.Evaluate[[][]float64](`[...document.querySelectorAll("#bulk-segment .radio-row label")].map((l) => {
			const r = l.getBoundingClientRect(), i = l.querySelector("input").getBoundingClientRect(); return [r.width, r.height, r.top, i.width]; })`))
		if len(boxes) != 2 {
			t.Fatalf("%d radio labels", len(boxes))
		}
		for _, b := range boxes {
			if b[0] > 200 || b[1] > 28 || b[3] > 20 {
				t.Errorf("a radio label is %.0fx%.0f px with a %.0f px wide radio: want a short line each", b[0], b[1], b[3])
			}
		}
		if boxes[0][2] != boxes[1][2] {
			t.Errorf("the two choices are not side by side (tops %.0f and %.0f)", boxes[0][2], boxes[1][2])
		}
		do(t, ctx, chromedp.Click(css("#bulk-segment .modal-head [data-close]")), chromedp.WaitNotVisible(css("#bulk-segment")))
	})

	// a customer with a company and an e-mail, from the table
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?owner=none"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	id := get(t, ctx, chromedp.Evaluate[int](`Number([...document.querySelectorAll("#customer-table tbody tr")].find(r =>
		r.querySelector("td:nth-child(5)").textContent.trim() !== "" && r.querySelector("td:nth-child(4)").textContent.includes("@")).dataset.id)`))
	drawer := func(t *testing.T, tab string) {
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/crm/customers/%d?owner=none&tab=%s", base, id, tab)), chromedp.WaitVisible(css("#drawer .drawer-head")))
	}

	t.Run("tag chips", func(t *testing.T) {
		pageAPI[any](t, ctx, "POST", fmt.Sprintf("/api/v1/customers/%d/tags", id), `{names: ["vip", "summit 2026"]}`)
		drawer(t, "profile")
		for _, w := range []int64{1440, 390} {
			do(t, ctx, chromedp.EmulateViewport(w, 900))
			chipLooksRight(t, ctx, "#drawer .tag-editor .chip")
			screenshot(t, ctx, fmt.Sprintf("controls-%d-drawer-tags", w))
		}
		do(t, ctx, chromedp.EmulateViewport(1440, 900))
		do(t, ctx, chromedp.Navigate(base+"/crm/customers?tag=vip&tag=summit+2026&tag_mode=all"), chromedp.WaitVisible(css("#customer-table")),
			chromedp.Click(css("#filters > summary")), chromedp.WaitVisible(css("#filters .picked .chip")))
		chipLooksRight(t, ctx, "#filters .picked .chip")
		chipLooksRight(t, ctx, ".chips .chip")
		screenshot(t, ctx, "controls-filter-tags")
	})

	t.Run("deal stage", func(t *testing.T) {
		pageAPI[any](t, ctx, "POST", fmt.Sprintf("/api/v1/customers/%d/deals", id), `{title: "Renewal with a rather long title for the line", amount: 120000, currency: "EUR"}`)
		for _, w := range []int64{1440, 390} {
			do(t, ctx, chromedp.EmulateViewport(w, 900))
			drawer(t, "records")
			screenshot(t, ctx, fmt.Sprintf("controls-%d-deal-stage", w))
			got := get(t, ctx, chromedp.Evaluate[[]float64](`(() => { const s = document.querySelector("#drawer select[data-deal]");
				const m = document.createElement("span"), cs = getComputedStyle(s);
				m.style.font = cs.font; m.style.position = "absolute"; m.style.whiteSpace = "pre"; document.body.append(m);
				let widest = 0; for (const o of s.options) { m.textContent = o.textContent; widest = Math.max(widest, m.getBoundingClientRect().width); }
				m.remove(); return [s.getBoundingClientRect().width, widest]; })()`))
			if got[0] < got[1]+24 {
				t.Errorf("at %d px the stage select is %.0f px wide, its longest stage %.0f px: clipped", w, got[0], got[1])
			}
		}
		do(t, ctx, chromedp.EmulateViewport(1440, 900))
	})

	t.Run("suppressed contact", func(t *testing.T) {
		drawer(t, "profile")
		contact := get(t, ctx, chromedp.Evaluate[int](`Number(document.querySelector("#drawer input[data-contact]").dataset.contact)`))
		pageAPI[any](t, ctx, "POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", contact), `{reason: "do_not_contact", note: "asked on the phone"}`)
		for _, w := range []int64{1440, 390} {
			do(t, ctx, chromedp.EmulateViewport(w, 900))
			drawer(t, "profile")
			li := fmt.Sprintf(`#drawer li[data-contact-id="%d"]`, contact)
			screenshot(t, ctx, fmt.Sprintf("controls-%d-suppressed", w))
			noOverlap(t, ctx, "the suppressed contact's line", li+" .contact-value input", li+" .badge-danger", li+" .contact-menu > summary", li+" .channel")
			// the badges and the menu sit on the line of the address, not on lines of their own
			problem := get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const li = document.querySelector(%q);
				const line = li.querySelector(".contact-value input").getBoundingClientRect();
				for (const e of [...li.querySelectorAll(".badge"), li.querySelector(".contact-menu > summary")]) {
					const r = e.getBoundingClientRect(); const mid = (r.top + r.bottom) / 2;
					if (mid < line.top || mid > line.bottom) return (e.textContent.trim() || e.className) + " sits at " + Math.round(mid) + ", off the address's line " + Math.round(line.top) + "-" + Math.round(line.bottom);
					if (e.scrollWidth > e.clientWidth + 1 && !e.title) return e.textContent + " is cut without a title";
				}
				return ""; })()`, li)))
			if problem != "" {
				t.Errorf("at %d px %s", w, problem)
			}
		}
		do(t, ctx, chromedp.EmulateViewport(1440, 900))
	})

	t.Run("score columns", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table")),
			chromedp.Click(css("#columns > summary")), chromedp.WaitVisible(css("#columns .column-list")))
		labels := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#columns .column-list label")].map((l) => l.textContent.trim())`))
		screenshot(t, ctx, "controls-columns")
		product := regexp.MustCompile(`^Score(?: \((.+)\)|: (.+))$`)
		seen := map[string]string{}
		for _, l := range labels {
			m := product.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			p := m[1] + m[2]
			if prev, ok := seen[p]; ok {
				t.Errorf("the column menu offers %q and %q: one product's score twice", prev, l)
			}
			seen[p] = l
		}
		if len(seen) == 0 {
			t.Fatalf("no score column offered: %q", labels)
		}
	})

	t.Run("company drawer", func(t *testing.T) {
		long := "Internationale Handelsgesellschaft für Präzisionsinstrumente GmbH & Co. KG"
		co := pageAPI[map[string]any](t, ctx, "POST", "/api/v1/companies", fmt.Sprintf(`{name: %q}`, long))
		coID := int(co["id"].(float64))
		pageAPI[any](t, ctx, "PATCH", fmt.Sprintf("/api/v1/customers/%d", id), fmt.Sprintf(`{company_id: %d}`, coID))
		drawer(t, "profile")
		do(t, ctx, chromedp.Click(css("#drawer a[data-company]")), chromedp.WaitVisible(css("#drawer [data-company-id]")))
		screenshot(t, ctx, "controls-company-drawer")
		if s := textOf(t, ctx, "#drawer [data-company-id] h2"); s != long {
			t.Errorf("company drawer title %q", s)
		}
		if clipped := get(t, ctx, chromedp.Evaluate[bool](`(() => { const h = document.querySelector("#drawer [data-company-id] h2"); return h.scrollWidth > h.clientWidth; })()`)); clipped {
			t.Error("the company name is cut off in the company drawer")
		}
		noOverlap(t, ctx, "the company drawer's head", "#drawer [data-company-id] h2", "#drawer [data-back-customer]", "#drawer [data-company-id] [data-close-drawer]")
		// its own URL, and the back button goes back one step
		path := func() string {
			u, err := url.Parse(get(t, ctx, chromedp.Location()))
			if err != nil {
				t.Fatal(err)
			}
			return u.Path
		}
		if p := path(); p != fmt.Sprintf("/crm/companies/%d", coID) {
			t.Fatalf("the company drawer's URL is %s", p)
		}
		do(t, ctx, chromedp.NavigateBack())
		do(t, ctx, chromedp.WaitVisible(css(fmt.Sprintf(`#drawer [data-customer="%d"]`, id))))
		if p := path(); p != fmt.Sprintf("/crm/customers/%d", id) {
			t.Fatalf("back from the company drawer: %s", p)
		}
		do(t, ctx, chromedp.NavigateForward())
		do(t, ctx, chromedp.WaitVisible(css(fmt.Sprintf(`#drawer [data-company-id="%d"]`, coID))))
		// the URL opened afresh shows the company; the companies list stays as it is
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/crm/companies/%d", base, coID)), chromedp.WaitVisible(css(fmt.Sprintf(`[data-company-id="%d"]`, coID))))
		if s := textOf(t, ctx, fmt.Sprintf(`[data-company-id="%d"] h2`, coID)); s != long {
			t.Errorf("/crm/companies/%d shows %q", coID, s)
		}
		screenshot(t, ctx, "controls-company-page")
		do(t, ctx, chromedp.Navigate(base+"/crm/companies"), chromedp.WaitVisible(css("#main h1")))
		if s := textOf(t, ctx, "#main h1"); !strings.HasPrefix(s, "Companies") {
			t.Errorf("/crm/companies shows %q", s)
		}
	})

	t.Run("change company creates one", func(t *testing.T) {
		drawer(t, "profile")
		name := "Brand New Widgets Ltd"
		pick := "#drawer [data-company-pick]"
		do(t, ctx, chromedp.Click(css(pick)), chromedp.SendKeys(css(pick), name+"\t"), chromedp.WaitVisible(css("#drawer [data-company-create]")))
		if s := textOf(t, ctx, "#drawer [data-company-create]"); s != "Create company “"+name+"”" {
			t.Fatalf("offer %q", s)
		}
		screenshot(t, ctx, "controls-company-create-offer")
		inside := get(t, ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector("#drawer [data-company-create]").getBoundingClientRect(),
			d = document.querySelector("#drawer .kv-value:has([data-company-pick])").getBoundingClientRect();
			return b.left >= d.left && b.right <= d.right + 0.5; })()`))
		if !inside {
			t.Error("the offer to create the company sticks out of the drawer")
		}
		do(t, ctx, chromedp.Click(css("#drawer [data-company-create]")))
		get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("#drawer a[data-company]")?.textContent === %q`, name)))
		c := pageAPI[map[string]any](t, ctx, "GET", fmt.Sprintf("/api/v1/customers/%d", id), nil)
		if co, _ := c["company"].(map[string]any); co == nil || co["name"] != name {
			t.Fatalf("the customer's company is %v", c["company"])
		}
		get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector('#customer-table tr[data-id="%d"]').textContent.includes(%q)`, id, name)))
		screenshot(t, ctx, "controls-company-created")
	})
}

// chipLooksRight fails the test unless the first chip's × is a button of
// its own beside the text: inside the chip, not over the text, and the
// chip's text is not cut.
func chipLooksRight(t *testing.T, ctx context.Context, chip string) {
	t.Helper()
	problem := get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const c = document.querySelector(%q);
		if (!c) return "no chip";
		const x = c.querySelector(".chip-x"); if (!x) return "no ×";
		const cr = c.getBoundingClientRect(), xr = x.getBoundingClientRect();
		const text = [...c.childNodes].find((n) => n.nodeType === 3 && n.textContent.trim());
		const rg = document.createRange(); rg.selectNodeContents(text); const tr = rg.getBoundingClientRect();
		if (xr.width < 16 || xr.height < 16) return "the × is " + xr.width + "x" + xr.height + " px";
		if (xr.left < cr.left - 0.5 || xr.right > cr.right + 0.5 || xr.top < cr.top - 0.5 || xr.bottom > cr.bottom + 0.5) return "the × sticks out of its chip";
		if (xr.left < tr.right - 0.5) return "the × overlaps the text (" + Math.round(xr.left) + " < " + Math.round(tr.right) + ")";
		if (Math.abs((xr.top + xr.bottom) / 2 - (tr.top + tr.bottom) / 2) > 3) return "the × is not on the text's line";
		if (tr.right > cr.right || tr.left < cr.left) return "the chip cuts its text";
		const cs = getComputedStyle(x);
		if (cs.borderTopStyle !== "none" && parseFloat(cs.borderTopWidth) > 0) return "the × has a button's border";
		return ""; })()`, chip)))
	if problem != "" {
		failShot(t, ctx)
		t.Fatalf("%s: %s", chip, problem)
	}
}
