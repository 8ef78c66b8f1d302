package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// TestSettingsAdmin: the demo admin defines a custom field, a product and a
// user, changes the user's role and deactivates them; the user then cannot sign in.
func TestSettingsAdmin(t *testing.T) {
	ctx := browser(t,
		allow(`^422 POST /settings/fields$`, "a custom field with a bad key is refused"),
		allow(`^422 POST /settings/users$`, "a bad new user is refused"),
		allow(`^409 POST /settings/users/\d+$`, "the last admin cannot be demoted"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#add-field")))

	// A key with spaces is refused beside the field; what was typed stays.
	do(t, ctx,
		chromedp.SendKeys(css("#f-key"), "contract tier"),
		chromedp.SendKeys(css("#f-label"), "Contract tier"),
		chromedp.SetValue(css("#f-type"), "select"),
		chromedp.WaitVisible(css("#f-options")),
		chromedp.SendKeys(css("#f-options"), "Gold, Silver, Bronze"),
		chromedp.Click(css(`#add-field button[type=submit]`)),
		chromedp.WaitVisible(css("#f-key-error")),
	)
	if msg := textOf(t, ctx, "#f-key-error"); !strings.Contains(msg, "lower-case letters") {
		t.Fatalf("key error %q", msg)
	}
	if kept := get(t, ctx, chromedp.Value(css("#f-label"))); kept != "Contract tier" {
		t.Fatalf("typed label lost: %q", kept)
	}
	if kept := get(t, ctx, chromedp.Value(css("#f-options"))); kept != "Gold, Silver, Bronze" {
		t.Fatalf("typed options lost: %q", kept)
	}
	if focused := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "f-key" {
		t.Fatalf("the refused field is not focused (%q is)", focused)
	}
	settingsShot(t, ctx, "settings-field-error", "#fields")

	// Corrected: the field is listed with its options.
	do(t, ctx, chromedp.SetValue(css("#f-key"), "contract_tier"))
	submitAndWait(t, ctx, `#add-field button[type=submit]`)
	if toast := textOf(t, ctx, ".toast"); !strings.Contains(toast, "Contract tier") {
		t.Fatalf("toast %q", toast)
	}
	if row := rowWith(t, ctx, "#fields", "contract_tier"); !strings.Contains(row, "Gold, Silver, Bronze") || !strings.Contains(row, "Select") || !strings.Contains(row, "In use") {
		t.Fatalf("field row %q", row)
	}
	fieldRow := "#" + get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#fields tbody tr")].find(r => r.textContent.includes("contract_tier")).id`))

	// Edit its label and options in the row's popover.
	do(t, ctx,
		clearToasts(),
		chromedp.Click(css(fieldRow+" .row-edit summary")),
		chromedp.WaitVisible(css(fieldRow+" .row-edit textarea")),
		chromedp.SetValue(css(fieldRow+` .row-edit input[name=label]`), "Contract level"),
		chromedp.SetValue(css(fieldRow+" .row-edit textarea"), "Gold\nSilver\nBronze\nPlatinum"),
	)
	settingsShot(t, ctx, "settings-field-edit", fieldRow)
	submitAndWait(t, ctx, fieldRow+` .row-edit button[type=submit]`)
	if row := textOf(t, ctx, fieldRow); !strings.Contains(row, "Contract level") || !strings.Contains(row, "Gold, Silver, Bronze, Platinum") {
		t.Fatalf("edited field row %q", row)
	}

	// Retire it (asked first: its values are kept), then bring it back.
	do(t, ctx,
		clearToasts(),
		chromedp.Click(css(fieldRow+` input[name=retired] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
	)
	if msg := textOf(t, ctx, "#ask-text"); !strings.Contains(msg, "values customers have are kept") {
		t.Fatalf("retire text %q", msg)
	}
	do(t, ctx, chromedp.Click(css("#ask-ok")), chromedp.WaitVisible(css(".toast")))
	if row := textOf(t, ctx, fieldRow); !strings.Contains(row, "Retired") || !strings.Contains(row, "Bring back") {
		t.Fatalf("retired field row %q", row)
	}
	submitAndWait(t, ctx, fieldRow+` input[name=retired] ~ button`)
	if row := textOf(t, ctx, fieldRow); !strings.Contains(row, "In use") {
		t.Fatalf("field not back: %q", row)
	}

	// A product.
	do(t, ctx, chromedp.SendKeys(css("#p-key"), "onboarding"), chromedp.SendKeys(css("#p-name"), "Acme Onboarding"))
	submitAndWait(t, ctx, `#add-product button[type=submit]`)
	if row := rowWith(t, ctx, "#products", "onboarding"); !strings.Contains(row, "Acme Onboarding") {
		t.Fatalf("product row %q", row)
	}

	// A member: first with a bad e-mail and a short password, refused beside each field.
	const email, password = "nia.e2e@example.com", "nia-password-1"
	do(t, ctx,
		chromedp.SendKeys(css("#u-name"), "Nia Newcomer"),
		chromedp.SendKeys(css("#u-email"), "nia.e2e"),
		chromedp.SetValue(css("#u-role"), "member"),
		chromedp.SendKeys(css("#u-password"), "short"),
		chromedp.Click(css(`#add-user button[type=submit]`)),
		chromedp.WaitVisible(css("#u-password-error")),
	)
	if msg := textOf(t, ctx, "#u-email-error"); !strings.Contains(msg, "is not an e-mail address") {
		t.Fatalf("e-mail error %q", msg)
	}
	if name, pw := get(t, ctx, chromedp.Value(css("#u-name"))), get(t, ctx, chromedp.Value(css("#u-password"))); name != "Nia Newcomer" || pw != "" {
		t.Fatalf("after the error: name %q, password %q (want the name kept, the password not)", name, pw)
	}
	settingsShot(t, ctx, "settings-user-error", "#users")
	do(t, ctx, chromedp.SetValue(css("#u-email"), email), chromedp.SendKeys(css("#u-password"), password))
	submitAndWait(t, ctx, `#add-user button[type=submit]`)
	row := rowWith(t, ctx, "#users", email)
	if !strings.Contains(row, "Member") || !strings.Contains(row, "Active") {
		t.Fatalf("user row %q", row)
	}
	id := get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#users tbody tr")].find(r => r.textContent.includes("`+email+`")).id`))

	// Make them an admin: asked first, in a dialog.
	do(t, ctx,
		clearToasts(),
		chromedp.Click(css("#"+id+` input[name=role] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
	)
	if q := textOf(t, ctx, "#ask-title"); q != "Make Nia Newcomer an admin?" {
		t.Fatalf("dialog title %q", q)
	}
	if focused := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "ask-cancel" {
		t.Fatalf("the dialog's default is %q, not Cancel", focused)
	}
	do(t, ctx, chromedp.Click(css("#ask-ok")), chromedp.WaitVisible(css(".toast")))
	if row := textOf(t, ctx, "#"+id); !strings.Contains(row, "Admin") {
		t.Fatalf("role not changed: %q", row)
	}

	// Deactivate: the dialog says their customers stay owned; Cancel changes nothing.
	do(t, ctx,
		clearToasts(), // it sits over the rows' buttons at the bottom right
		chromedp.Click(css("#"+id+` input[name=active] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
	)
	if msg := textOf(t, ctx, "#ask-text"); !strings.Contains(msg, "no longer be able to sign in") || !strings.Contains(msg, "customers stay owned") {
		t.Fatalf("deactivation text %q", msg)
	}
	if cls := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("ask-ok").className`)); !strings.Contains(cls, "btn-danger") {
		t.Fatalf("the deactivate button is not marked as dangerous: %q", cls)
	}
	settingsShot(t, ctx, "settings-confirm-deactivate", "")
	do(t, ctx, chromedp.Click(css("#ask-cancel")), chromedp.WaitNotVisible(css("#ask-dialog")))
	if row := textOf(t, ctx, "#"+id); !strings.Contains(row, "Active") {
		t.Fatalf("cancel deactivated anyway: %q", row)
	}
	do(t, ctx,
		clearToasts(),
		chromedp.Click(css("#"+id+` input[name=active] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
		chromedp.Click(css("#ask-ok")),
		chromedp.WaitVisible(css(".toast")),
	)
	if row := textOf(t, ctx, "#"+id); !strings.Contains(row, "Deactivated") || !strings.Contains(row, "Reactivate") {
		t.Fatalf("not deactivated: %q", row)
	}
	do(t, ctx, clearToasts())
	settingsShot(t, ctx, "settings-admin", "")

	// The last admin cannot step down: a message atop the team, nothing changed.
	omar := "#" + get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#users tbody tr")].find(r => r.textContent.includes("omar.haddad@")).id`))
	me := "#" + get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#users tbody tr")].find(r => r.textContent.includes("`+seed.DemoAdminEmail+`")).id`))
	do(t, ctx,
		chromedp.Click(css(omar+` input[name=role] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
		chromedp.Click(css("#ask-ok")),
		chromedp.WaitVisible(css(".toast")),
		clearToasts(),
		chromedp.Click(css(me+` input[name=role] ~ button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
		chromedp.Click(css("#ask-ok")),
		chromedp.WaitVisible(css("#users-alert")),
	)
	if msg := textOf(t, ctx, "#users-alert"); !strings.Contains(msg, "last active admin") {
		t.Fatalf("last-admin message %q", msg)
	}
	if focused := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "users-alert" {
		t.Fatalf("the refusal is not focused (%q is), so it may be out of sight", focused)
	}
	if row := textOf(t, ctx, me); !strings.Contains(row, "Admin") {
		t.Fatalf("the last admin was demoted: %q", row)
	}
	screenshot(t, ctx, "settings-last-admin")

	// The deactivated user gets the one generic sign-in error.
	other := browser(t, allow(`^401 POST /login$`, "the deactivated user cannot sign in"))
	do(t, other,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css("#login-error")),
	)
	if msg := textOf(t, other, "#login-error"); msg != "The e-mail or password is incorrect." {
		t.Fatalf("deactivated sign-in message %q", msg)
	}
}

// TestSettingsMember: a member sees the team, products and custom fields
// without any form, and still manages their own API tokens.
func TestSettingsMember(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, "maria.rossi@example.com", seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#fields")))
	forms := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#users form, #products form, #fields form").length`))
	if forms != 0 {
		t.Fatalf("a member sees %d forms in the admin sections", forms)
	}
	for _, sel := range []string{"#users .read-only", "#products .read-only", "#fields .read-only"} {
		if msg := textOf(t, ctx, sel); !strings.HasPrefix(msg, "Only admins can") {
			t.Fatalf("%s: %q", sel, msg)
		}
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#users tbody tr").length`)); n < 10 {
		t.Fatalf("the team lists %d users", n)
	}
	settingsShot(t, ctx, "settings-member", "")

	// Members still manage their own tokens; revoking one is asked first.
	do(t, ctx,
		chromedp.SendKeys(css("#token-name"), "Sheets export"),
		chromedp.Click(css(`#tokens .inline-form button[type=submit]`)),
		chromedp.WaitVisible(css("#new-token")),
		chromedp.Click(css(`#tokens .row-actions button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
	)
	if q := textOf(t, ctx, "#ask-title"); q != "Revoke the token “Sheets export”?" {
		t.Fatalf("revoke dialog %q", q)
	}
	do(t, ctx, chromedp.Click(css("#ask-ok")), chromedp.WaitVisible(css(".toast")))
	if row := textOf(t, ctx, "#tokens tbody tr"); !strings.Contains(row, "Revoked") {
		t.Fatalf("token row after revoke %q", row)
	}
}

// clearToasts removes the toast of the current page, so that waiting for one
// waits for the next page's.
func clearToasts() chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".toast").forEach(t => t.remove())`)
}

// submitAndWait clicks a submit button and waits for the next page's toast.
func submitAndWait(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	do(t, ctx, clearToasts(), chromedp.Click(css(sel)), chromedp.WaitVisible(css(".toast")))
}

// rowWith returns the text of the first row of a section's table containing s.
func rowWith(t *testing.T, ctx context.Context, section, s string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("`+section+` tbody tr")].map(r => r.textContent.replace(/\s+/g, " ")).find(r => r.includes("`+s+`")) || ""`))
}

// settingsShot saves the whole Settings page (the content scrolls inside the
// shell, so the window is made as tall as the content for the picture), or,
// with a section, the window scrolled to that section.
func settingsShot(t *testing.T, ctx context.Context, name, section string) {
	t.Helper()
	if section != "" {
		do(t, ctx, chromedp.ScrollIntoView(css(section)))
		screenshot(t, ctx, name)
		return
	}
	h := get(t, ctx, chromedp.Evaluate[int64](`document.querySelector(".content").scrollHeight + 48`))
	do(t, ctx, chromedp.EmulateViewport(1280, max(h, 800)))
	screenshot(t, ctx, name)
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
}
