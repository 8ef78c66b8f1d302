package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestCustomerDrawer(t *testing.T) {
	ctx := browser(t,
		allow(`^400 PATCH /api/v1/contacts/\d+$`, "a bad e-mail is refused beside the field"),
		allow(`^400 POST /api/v1/customers/\d+/send$`, "an e-mail without a subject is refused"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	// An unclaimed customer with a company and an e-mail, from the table.
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?owner=none"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	id := get(t, ctx, chromedp.Evaluate[int](`Number([...document.querySelectorAll("#customer-table tbody tr")].find(r =>
		r.querySelector("td:nth-child(5)").textContent.trim() !== "" && r.querySelector("td:nth-child(4)").textContent.includes("@")).dataset.id)`))
	row := fmt.Sprintf(`#customer-table tr[data-id="%d"]`, id)

	// Clicking the row slides the drawer in beside the table; the URL is the drawer's.
	do(t, ctx, chromedp.Click(css(row+" td:nth-child(4)")), chromedp.WaitVisible(css("#drawer .drawer-head")))
	loc := get(t, ctx, chromedp.Location())
	if !strings.Contains(loc, fmt.Sprintf("/crm/customers/%d?", id)) || !strings.Contains(loc, "owner=none") {
		t.Fatalf("drawer URL %s", loc)
	}
	if n := rowCount(t, ctx); n == 0 {
		t.Fatal("the table went away")
	}
	screenshot(t, ctx, "drawer")

	// Edit the e-mail inline: a bad value is refused beside it and stays; a good one is saved normalised.
	email := css("#drawer .contact input[data-contact]")
	do(t, ctx, chromedp.SetValue(email, "broken@"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#drawer .contact input[data-contact]").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.WaitVisible(css("#drawer .contact .field-error")))
	if msg := textOf(t, ctx, "#drawer .contact .field-error"); !strings.Contains(msg, "is not an e-mail address") {
		t.Fatalf("inline error %q", msg)
	}
	if v := get(t, ctx, chromedp.Value(email)); v != "broken@" {
		t.Fatalf("typed value lost: %q", v)
	}
	screenshot(t, ctx, "drawer-contact-error")
	do(t, ctx, chromedp.SetValue(email, "  New.Address@Example.COM "), chromedp.Evaluate[chromedp.Void](`document.querySelector("#drawer .contact input[data-contact]").dispatchEvent(new Event("change", {bubbles: true}))`))
	get(t, ctx, chromedp.Poll[bool](`document.querySelector("#drawer .contact input[data-contact]").value === "new.address@example.com"`))
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector('%s').textContent.includes("new.address@example.com")`, row)))

	// Claim from the owner section; the drawer and the row show the new owner.
	do(t, ctx, chromedp.Click(css(`#drawer .owner-actions [data-action="claim"]`)))
	get(t, ctx, chromedp.Poll[bool](`document.querySelector("#drawer .drawer-title").textContent.includes("Owned by")`))
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`!document.querySelector('%s').textContent.includes("Unclaimed")`, row))) // the row follows

	// The activity tab tells both changes as sentences.
	do(t, ctx, chromedp.Click(css(`#drawer [data-tab="activity"]`)), chromedp.WaitVisible(css("#activity-list")))
	acts := textOf(t, ctx, "#activity-list")
	if !strings.Contains(acts, "claimed this customer") || !strings.Contains(acts, "new.address@example.com") {
		t.Fatalf("activity: %q", acts)
	}
	if loc := get(t, ctx, chromedp.Location()); !strings.Contains(loc, "tab=activity") {
		t.Fatalf("tab not in the URL: %s", loc)
	}
	screenshot(t, ctx, "drawer-activity")

	// The company name opens the company drawer, and it leads back.
	do(t, ctx, chromedp.Click(css(`#drawer [data-tab="profile"]`)), chromedp.Click(css("#drawer a[data-company]")),
		chromedp.WaitVisible(css("#drawer [data-company-id]")))
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#drawer [data-open-customer]").length`)); n == 0 {
		t.Fatal("the company drawer lists no customers")
	}
	screenshot(t, ctx, "company-drawer")
	do(t, ctx, chromedp.Click(css("#drawer [data-back-customer]")), chromedp.WaitVisible(css("#drawer [data-customer]")))

	// Send an e-mail from the Messages tab: without a mail server it stays in the outbox, and says so.
	do(t, ctx, chromedp.Click(css(`#drawer [data-tab="messages"]`)), chromedp.Click(css("#drawer [data-compose]")),
		chromedp.WaitVisible(css("#compose-dialog")), chromedp.Click(css(`#compose-dialog button[type=submit]`)),
		chromedp.WaitVisible(css(`#compose-dialog [data-field="subject"] .field-error`)))
	screenshot(t, ctx, "compose-error")
	// the message box shows its rows (it was one input's height, 34 px)
	if h := get(t, ctx, chromedp.Evaluate[float64](`document.querySelector("#m-body").getBoundingClientRect().height`)); h < 100 {
		t.Fatalf("the message box is %.0f px tall", h)
	}
	do(t, ctx, chromedp.SendKeys(css("#m-subject"), "Following up"), chromedp.SendKeys(css("#m-body"), "Hello, here is the offer we talked about."),
		chromedp.Click(css(`#compose-dialog button[type=submit]`)), chromedp.WaitVisible(css(".toast")))
	present(t, ctx, "#drawer .message .badge-warn")
	if msg := textOf(t, ctx, "#drawer .messages li:first-child"); !strings.Contains(msg, "Following up") || !strings.Contains(msg, "not delivered") {
		t.Fatalf("sent message shows as %q", msg)
	}
	screenshot(t, ctx, "drawer-messages")

	// Esc closes the drawer and the URL goes back to the table's.
	do(t, ctx, chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(css("#drawer")))
	if loc := get(t, ctx, chromedp.Location()); strings.Contains(loc, fmt.Sprintf("/customers/%d", id)) {
		t.Fatalf("after Esc at %s", loc)
	}

	// Opened directly, the drawer's URL works as a page.
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/crm/customers/%d?tab=activity", base, id)), chromedp.WaitVisible(css("#activity-list")))
}

func TestSuppressionInTheDrawer(t *testing.T) {
	ctx := browser(t, allow(`^400 POST /api/v1/contacts/\d+/unsuppress$`, "unsuppress without a note is refused"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table tbody tr")),
		chromedp.Click(css("#customer-table tbody tr:first-child td:nth-child(4)")), chromedp.WaitVisible(css("#drawer .contact")))

	// Suppress the first contact with a reason and a note.
	menu(t, ctx, "#drawer .contact:first-child .contact-menu summary", "#drawer .contact:first-child [data-suppress]")
	do(t, ctx,
		chromedp.WaitVisible(css("#suppress-dialog")),
		chromedp.SetValue(css("#s-reason"), "unsubscribe"),
		chromedp.SendKeys(css("#s-note"), "Asked on the phone"),
		chromedp.Click(css(`#suppress-dialog button[type=submit]`)),
	)
	present(t, ctx, "#drawer .contact:first-child .suppressed-by")
	if s := textOf(t, ctx, "#drawer .contact:first-child .suppressed-by"); !strings.Contains(s, "Unsubscribed") || !strings.Contains(s, "Asked on the phone") {
		t.Fatalf("suppression shown as %q", s)
	}
	screenshot(t, ctx, "contact-suppressed")

	// Unsuppress without a note is refused beside the field.
	menu(t, ctx, "#drawer .contact:first-child .contact-menu summary", "#drawer .contact:first-child [data-unsuppress]")
	do(t, ctx,
		chromedp.WaitVisible(css("#unsuppress-dialog")),
		chromedp.Click(css(`#unsuppress-dialog button[type=submit]`)),
		chromedp.WaitVisible(css(`#unsuppress-dialog [data-field="note"] .field-error`)),
	)
	if msg := textOf(t, ctx, `#unsuppress-dialog [data-field="note"] .field-error`); !strings.Contains(msg, "Say why") {
		t.Fatalf("unsuppress without note: %q", msg)
	}
	screenshot(t, ctx, "unsuppress-needs-note")
	do(t, ctx,
		chromedp.SendKeys(css("#u-note"), "Re-subscribed in writing"),
		chromedp.Click(css(`#unsuppress-dialog button[type=submit]`)),
		chromedp.WaitNotVisible(css("#unsuppress-dialog")),
	)
	get(t, ctx, chromedp.Poll[bool](`!document.querySelector("#drawer .contact:first-child .suppressed-by")`))
	// The history shows both, with the notes.
	menu(t, ctx, "#drawer .contact:first-child .contact-menu summary", "#drawer .contact:first-child [data-history]")
	get(t, ctx, chromedp.Poll[bool](`!document.querySelector("#drawer .contact:first-child .history").hidden`))
	h := textOf(t, ctx, "#drawer .contact:first-child .history")
	if !strings.Contains(h, "Suppressed (Unsubscribed)") || !strings.Contains(h, "Suppression lifted") || !strings.Contains(h, "Re-subscribed in writing") {
		t.Fatalf("history %q", h)
	}
	screenshot(t, ctx, "suppression-history")
}
