package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestSignInLandsOnTheShell(t *testing.T) {
	ctx := browser(t, allow(`^401 POST /login$`, "a wrong password"))
	base := serve(t, "--demo")

	// A page needs a session: the browser is sent to sign in and comes back after.
	do(t, ctx, chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#email")))
	if loc := get(t, ctx, chromedp.Location()); !strings.Contains(loc, "/login?next=%2Fsettings") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	screenshot(t, ctx, "login")

	// A wrong password: one message, the e-mail kept.
	do(t, ctx,
		chromedp.SendKeys(css("#email"), seed.DemoAdminEmail),
		chromedp.SendKeys(css("#password"), "not the password"),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css("#login-error")),
	)
	if msg := textOf(t, ctx, "#login-error"); msg != "The e-mail or password is incorrect." {
		t.Fatalf("error message %q", msg)
	}
	if kept := get(t, ctx, chromedp.Value(css("#email"))); kept != seed.DemoAdminEmail {
		t.Fatalf("typed e-mail lost: %q", kept)
	}
	screenshot(t, ctx, "login-error")

	do(t, ctx,
		chromedp.SendKeys(css("#password"), seed.DemoPassword),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(".sidenav")),
	)
	if loc := get(t, ctx, chromedp.Location()); loc != base+"/settings" {
		t.Fatalf("after sign-in at %s, want %s/settings", loc, base)
	}
	if h := textOf(t, ctx, "#tokens-title"); h != "API tokens" {
		t.Fatalf("settings heading %q", h)
	}

	// Create an API token on the Settings page: it is shown once.
	do(t, ctx,
		chromedp.SendKeys(css("#token-name"), "Zapier"),
		chromedp.Click(css(`#tokens button[type=submit]`)),
		chromedp.WaitVisible(css("#new-token")),
	)
	if tok := get(t, ctx, chromedp.Value(css("#new-token"))); !strings.HasPrefix(tok, "crm_") {
		t.Fatalf("new token %q", tok)
	}
	screenshot(t, ctx, "settings")

	// The shell: navigation marks the current page; the top bar names the user.
	do(t, ctx, chromedp.Click(css(`.sidenav a[href="/crm/imports"]`)), chromedp.WaitVisible(css(".empty-state")))
	if cur := textOf(t, ctx, `.sidenav a[aria-current="page"]`); cur != "Imports" {
		t.Fatalf("current nav item %q", cur)
	}
	if who := textOf(t, ctx, ".user-menu .user-name"); who == "" {
		t.Fatal("no user name in the top bar")
	}
	screenshot(t, ctx, "shell")

	// Sign out from the user menu.
	do(t, ctx,
		chromedp.Click(css(".user-menu summary")),
		chromedp.Click(css(`.user-menu button[type=submit]`)),
		chromedp.WaitVisible(css("#email")),
	)
	if loc := get(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after sign-out at %s", loc)
	}
}
