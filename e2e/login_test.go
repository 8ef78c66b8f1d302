package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

func TestSignInLandsOnTheShell(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")

	// A page needs a session: the browser is sent to sign in and comes back after.
	var loc string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/settings"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.Location(&loc),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/login?next=%2Fsettings") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	screenshot(t, ctx, "login")

	// A wrong password: one message, the e-mail kept.
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#email", seed.DemoAdminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", "not the password", chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#login-error", chromedp.ByID),
	); err != nil {
		t.Fatal(err)
	}
	if msg := textOf(t, ctx, "#login-error"); msg != "The e-mail or password is incorrect." {
		t.Fatalf("error message %q", msg)
	}
	var kept string
	if err := chromedp.Run(ctx, chromedp.Value("#email", &kept, chromedp.ByID)); err != nil || kept != seed.DemoAdminEmail {
		t.Fatalf("typed e-mail lost: %q %v", kept, err)
	}
	screenshot(t, ctx, "login-error")

	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#password", seed.DemoPassword, chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(".sidenav", chromedp.ByQuery),
		chromedp.Location(&loc),
	); err != nil {
		t.Fatal(err)
	}
	if loc != base+"/settings" {
		t.Fatalf("after sign-in at %s, want %s/settings", loc, base)
	}
	if h := textOf(t, ctx, "#tokens-title"); h != "API tokens" {
		t.Fatalf("settings heading %q", h)
	}
	screenshot(t, ctx, "settings")

	// The shell: navigation marks the current page; pages not built yet say so.
	if err := chromedp.Run(ctx,
		chromedp.Click(`.sidenav a[href="/crm/customers"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".empty-state", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if cur := textOf(t, ctx, `.sidenav a[aria-current="page"]`); cur != "Customers" {
		t.Fatalf("current nav item %q", cur)
	}
	if who := textOf(t, ctx, ".user-menu .user-name"); who == "" {
		t.Fatal("no user name in the top bar")
	}
	screenshot(t, ctx, "shell")

	// Sign out from the user menu.
	if err := chromedp.Run(ctx,
		chromedp.Click(".user-menu summary", chromedp.ByQuery),
		chromedp.Click(`.user-menu button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.Location(&loc),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after sign-out at %s", loc)
	}
}
