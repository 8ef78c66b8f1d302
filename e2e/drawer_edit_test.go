package e2e

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// hold pauses the page's requests to the customer API in the browser, so a
// test can type on while a save is on its way (the requests are real; only
// their departure waits for release).
type hold struct {
	next   func() (fetch.EventRequestPaused, error, bool)
	cancel func()
}

func holdSaves(t *testing.T, ctx context.Context) *hold {
	t.Helper()
	hctx, cancel := context.WithTimeout(ctx, stepTimeout)
	next, stop := iter.Pull2(chromedp.Events(hctx, fetch.RequestPaused))
	h := &hold{next: next, cancel: func() { stop(); cancel() }}
	t.Cleanup(h.cancel)
	do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/v1/customers/*", RequestStage: fetch.RequestStageRequest}}})
		return err
	}))
	return h
}

// paused waits for the next held request and checks it is a save (PATCH).
func (h *hold) paused(t *testing.T, ctx context.Context) fetch.RequestID {
	t.Helper()
	ev, err, ok := h.next()
	if !ok || err != nil {
		failShot(t, ctx)
		t.Fatalf("no request was held: %v", err)
	}
	if ev.Request.Method != "PATCH" {
		t.Fatalf("held %s %s, want a save (PATCH)", ev.Request.Method, ev.Request.URL)
	}
	return ev.RequestID
}

// release lets the held request go and stops holding others.
func (h *hold) release(t *testing.T, ctx context.Context, id fetch.RequestID) {
	t.Helper()
	do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, fetch.Disable, struct{}{})
		return err
	}))
	h.cancel()
}

// openDrawer opens the drawer of the table's first customer and returns its id.
func openDrawer(t *testing.T, ctx context.Context, base string) int {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")),
		chromedp.Click(css("#customer-table tbody tr:first-child td:nth-child(4)")), chromedp.WaitVisible(css("#drawer #e-full_name")))
	return get(t, ctx, chromedp.Evaluate[int](`Number(document.querySelector("#drawer [data-customer]").dataset.customer)`))
}

// statusOf is the JS of the "Saved" line beside a field.
func statusOf(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.closest(".kv-value, .contact-value, .tag-editor")?.querySelector(".field-status")?.textContent || "")`, sel)
}

func activeID(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](`document.activeElement?.id || document.activeElement?.tagName`))
}

func value(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, sel)))
}

// customerField reads a saved value from the API, as the page's user.
func customerField(t *testing.T, ctx context.Context, id int, field string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch("/api/v1/customers/%d").then(r => r.json()).then(c => JSON.stringify(c[%q]))`, id, field),
		chromedp.EvalAwaitPromise))
}

// TestDrawerEditingKeepsFocusAndTyping: the drawer saves each field in place
// (issue 12, item 2): typing goes on in the next field while one saves, Tab
// walks the fields, tags are added one after another from the keyboard, "/"
// typed in a field stays in it, and Esc first cancels an edit, then closes.
func TestDrawerEditingKeepsFocusAndTyping(t *testing.T) {
	ctx := browser(t, allow(`^400 PATCH /api/v1/customers/\d+$`, "a country that does not exist is refused"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	t.Run("type on in the next field while one saves", func(t *testing.T) {
		id := openDrawer(t, ctx, base)
		h := holdSaves(t, ctx)
		// Field A: select what is there and type over it; Tab commits it.
		do(t, ctx, chromedp.Focus(css("#e-first_name")), chromedp.Evaluate[chromedp.Void](`document.querySelector("#e-first_name").select()`),
			chromedp.KeyEvent("Annika\t"))
		req := h.paused(t, ctx) // A's save is on its way
		if got := activeID(t, ctx); got != "e-last_name" {
			t.Fatalf("Tab from the first name went to %q", got)
		}
		do(t, ctx, chromedp.KeyEvent("Bergstr")) // typing in B while A saves
		screenshot(t, ctx, "drawer-typing-while-saving")
		h.release(t, ctx, req)
		get(t, ctx, chromedp.Poll[bool](statusOf("#e-first_name")+` === "Saved"`))
		do(t, ctx, chromedp.KeyEvent("öm"))
		if got := activeID(t, ctx); got != "e-last_name" {
			t.Fatalf("after A saved, the focus is on %q, not in B", got)
		}
		if v := value(t, ctx, "#e-last_name"); v != "Bergström" {
			t.Fatalf("B holds %q, want what was typed: Bergström", v)
		}
		do(t, ctx, chromedp.KeyEvent("\t")) // B saves too
		get(t, ctx, chromedp.Poll[bool](statusOf("#e-last_name")+` === "Saved"`))
		screenshot(t, ctx, "drawer-saved-beside-field")
		if a, b := customerField(t, ctx, id, "first_name"), customerField(t, ctx, id, "last_name"); a != `"Annika"` || b != `"Bergström"` {
			t.Fatalf("saved first and last name: %s %s", a, b)
		}
		if live := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#e-first_name").closest(".kv-value").querySelector(".field-status").getAttribute("aria-live")`)); live != "polite" {
			t.Fatalf("the Saved line is not announced (aria-live %q)", live)
		}
		get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`(document.querySelector('#customer-table tr[data-id="%d"]')?.textContent || "").length > 0`, id)))
	})

	t.Run("Tab walks the fields in order while they save", func(t *testing.T) {
		openDrawer(t, ctx, base)
		do(t, ctx, chromedp.Focus(css("#e-full_name")), chromedp.Evaluate[chromedp.Void](`document.querySelector("#e-full_name").select()`),
			chromedp.KeyEvent("Annika Bergström\t"))
		for _, want := range []string{"e-first_name", "e-last_name", "e-language", "e-country", "e-timezone"} {
			if got := activeID(t, ctx); got != want {
				t.Fatalf("Tab reached %q, want %q", got, want)
			}
			do(t, ctx, chromedp.KeyEvent("\t"))
		}
		get(t, ctx, chromedp.Poll[bool](statusOf("#e-full_name")+` === "Saved"`))
		if picker := get(t, ctx, chromedp.Evaluate[bool](`document.activeElement.matches("#drawer [data-company], #drawer [data-company-pick]")`)); !picker {
			t.Fatalf("after the timezone, Tab reached %q, not the company", activeID(t, ctx))
		}
		if h := textOf(t, ctx, "#drawer-name"); h != "Annika Bergström" {
			t.Fatalf("the drawer's heading says %q", h)
		}
	})

	t.Run("a slash typed in a field stays in it", func(t *testing.T) {
		openDrawer(t, ctx, base)
		h := holdSaves(t, ctx)
		do(t, ctx, chromedp.Focus(css("#e-country")), chromedp.Evaluate[chromedp.Void](`document.querySelector("#e-country").select()`),
			chromedp.KeyEvent("FR\t"))
		req := h.paused(t, ctx)
		do(t, ctx, chromedp.KeyEvent("Europe"))
		h.release(t, ctx, req)
		// once the country's save is back (or the focus was lost to it), type on
		get(t, ctx, chromedp.Poll[bool](statusOf("#e-country")+` === "Saved" || document.activeElement.id !== "e-timezone"`))
		do(t, ctx, chromedp.KeyEvent("/Paris"))
		if v, q := value(t, ctx, "#e-timezone"), value(t, ctx, "#global-q"); v != "Europe/Paris" || q != "" {
			t.Fatalf("timezone %q, global search %q: the slash left the field", v, q)
		}
		if got := activeID(t, ctx); got != "e-timezone" {
			t.Fatalf("focus on %q", got)
		}
		if v := value(t, ctx, "#e-country"); v != "France" {
			t.Fatalf("the saved country shows as %q, want its name", v)
		}
		do(t, ctx, chromedp.KeyEvent("\t"))
		get(t, ctx, chromedp.Poll[bool](statusOf("#e-timezone")+` === "Saved"`))
	})

	t.Run("a refusal shows beside the field and keeps the typing", func(t *testing.T) {
		openDrawer(t, ctx, base)
		do(t, ctx, chromedp.Focus(css("#e-country")), chromedp.Evaluate[chromedp.Void](`document.querySelector("#e-country").select()`),
			chromedp.KeyEvent("Atlantis\t"))
		get(t, ctx, chromedp.Poll[bool](`!document.querySelector("#e-country").closest(".kv-value").querySelector(".field-error").hidden`))
		if msg := textOf(t, ctx, "#drawer #e-country ~ .field-error"); !strings.Contains(msg, "Atlantis") {
			t.Fatalf("the refusal says %q", msg)
		}
		if v, got := value(t, ctx, "#e-country"), activeID(t, ctx); v != "Atlantis" || got != "e-timezone" {
			t.Fatalf("after the refusal the country holds %q and the focus is on %q", v, got)
		}
		screenshot(t, ctx, "drawer-field-refused")
	})

	t.Run("several tags from the keyboard", func(t *testing.T) {
		id := openDrawer(t, ctx, base)
		input := `#drawer [data-form="add-tag"] input`
		do(t, ctx, chromedp.Focus(css(input)), chromedp.KeyEvent("alpha\rbeta\rgamma\r"))
		get(t, ctx, chromedp.Poll[bool](`["alpha", "beta", "gamma"].every(n => document.querySelector('#drawer [data-untag="' + n + '"]'))`))
		if !get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement === document.querySelector(%q) && document.activeElement.value === ""`, input))) {
			t.Fatalf("after three tags the focus is on %q", activeID(t, ctx))
		}
		do(t, ctx, chromedp.KeyEvent("delta, epsilon\r"))
		get(t, ctx, chromedp.Poll[bool](`["delta", "epsilon"].every(n => document.querySelector('#drawer [data-untag="' + n + '"]'))`))
		do(t, ctx, chromedp.KeyEvent("zeta,eta,"))
		get(t, ctx, chromedp.Poll[bool](`["zeta", "eta"].every(n => document.querySelector('#drawer [data-untag="' + n + '"]'))`))
		if v := value(t, ctx, input); v != "" {
			t.Fatalf("after the comma the box holds %q", v)
		}
		screenshot(t, ctx, "drawer-tags-typed")
		tags := customerField(t, ctx, id, "tags")
		for _, n := range []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"} {
			if !strings.Contains(tags, `"`+n+`"`) {
				t.Fatalf("tag %s not saved: %s", n, tags)
			}
		}
		if st := get(t, ctx, chromedp.Evaluate[string](statusOf(input))); !strings.HasPrefix(st, "Added") {
			t.Fatalf("the tags' status says %q", st)
		}
		if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#drawer .tag-chips [data-untag]").length`)); n != len(strings.Split(tags, ",")) {
			t.Fatalf("%d chips for the tags %s", n, tags)
		}
	})

	t.Run("a change that redraws the drawer keeps what is being typed", func(t *testing.T) {
		openDrawer(t, ctx, base)
		newContact := `#drawer [data-form="add-contact"] [name="value"]`
		do(t, ctx, chromedp.SendKeys(css(newContact), "half.typed@exa"),
			chromedp.Click(css(`#drawer .owner-actions [data-action="claim"]`)))
		get(t, ctx, chromedp.Poll[bool](`document.querySelector("#drawer .drawer-title").textContent.includes("Owned by")`))
		if v := value(t, ctx, newContact); v != "half.typed@exa" {
			t.Fatalf("after the claim redrew the drawer, the new contact holds %q", v)
		}
		// once added, the contact is in the list and the box is empty for the next
		do(t, ctx, chromedp.Focus(css(newContact)), chromedp.KeyEvent("mple.org\r"))
		get(t, ctx, chromedp.Poll[bool](`[...document.querySelectorAll("#drawer input[data-contact]")].some(i => i.value === "half.typed@example.org")`))
		if v := value(t, ctx, newContact); v != "" {
			t.Fatalf("after adding, the new contact box still holds %q", v)
		}
	})

	t.Run("Esc cancels the edit, a second Esc closes", func(t *testing.T) {
		id := openDrawer(t, ctx, base)
		old := value(t, ctx, "#e-timezone")
		do(t, ctx, chromedp.Focus(css("#e-timezone")), chromedp.Evaluate[chromedp.Void](`document.querySelector("#e-timezone").select()`),
			chromedp.KeyEvent("Mars/Olympus"))
		screenshot(t, ctx, "drawer-editing")
		do(t, ctx, chromedp.KeyEvent("\x1b"))
		if v := value(t, ctx, "#e-timezone"); v != old {
			t.Fatalf("after Esc the field holds %q, want the old %q", v, old)
		}
		if hidden := get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("#drawer").hidden`)); hidden {
			t.Fatal("the first Esc closed the drawer and dropped the edit")
		}
		if got := activeID(t, ctx); got != "e-timezone" {
			t.Fatalf("after Esc the focus is on %q", got)
		}
		screenshot(t, ctx, "drawer-edit-cancelled")
		do(t, ctx, chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(css("#drawer")))
		if tz := customerField(t, ctx, id, "timezone"); strings.Contains(tz, "Mars") {
			t.Fatalf("the cancelled edit was saved: %s", tz)
		}
	})
}
