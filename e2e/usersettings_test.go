package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// Issue 17, items 6 and 7: settings a user expects, and avatars without
// leaking or noise.

// signOut signs out through the user menu.
func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx,
		chromedp.Click(css(".user-menu summary")),
		chromedp.WaitVisible(css(`.user-menu form[action="/logout"] button`)),
		chromedp.Click(css(`.user-menu form[action="/logout"] button`)),
		chromedp.WaitVisible(css("#email")),
	)
}

// atWidth takes a screenshot at a window width (1440 or 390), then goes back to 1280x800.
func atWidth(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(width, 900))
	screenshot(t, ctx, name)
	do(t, ctx, chromedp.EmulateViewport(1280, 800))
}

// TestChangeOwnNameAndPasswordThenSignIn: a member renames themselves and
// changes their password (the current one asked for, a wrong one refused
// beside the field), signs out and signs in with the new password.
func TestChangeOwnNameAndPasswordThenSignIn(t *testing.T) {
	ctx := browser(t, allow(`^422 POST /settings/password$`, "a wrong current password is refused"))
	base := serve(t, "--demo")
	const email, newPassword = "maria.rossi@example.com", "maria's new pass"
	signIn(t, ctx, base, email, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings#account"), chromedp.WaitVisible(css("#account-name")))

	do(t, ctx, chromedp.SetValue(css("#a-name"), "Maria R. Rossi"))
	submitAndWait(t, ctx, `#account-name button[type=submit]`)
	if name := textOf(t, ctx, ".user-menu .user-name"); name != "Maria R. Rossi" {
		t.Fatalf("the top bar says %q", name)
	}

	do(t, ctx,
		chromedp.SendKeys(css("#a-current"), "not my password"),
		chromedp.SendKeys(css("#a-password"), newPassword),
		chromedp.SendKeys(css("#a-confirm"), newPassword),
		chromedp.Click(css(`#password button[type=submit]`)),
		chromedp.WaitVisible(css("#a-current-error")),
	)
	if msg := textOf(t, ctx, "#a-current-error"); !strings.Contains(msg, "not your current password") {
		t.Fatalf("wrong current password: %q", msg)
	}
	do(t, ctx, chromedp.ScrollIntoView(css("#account")))
	atWidth(t, ctx, "settings-account-error-1440", 1440)
	atWidth(t, ctx, "settings-account-error-390", 390)

	do(t, ctx,
		chromedp.SendKeys(css("#a-current"), seed.DemoPassword),
		chromedp.SendKeys(css("#a-password"), newPassword),
		chromedp.SendKeys(css("#a-confirm"), newPassword),
	)
	submitAndWait(t, ctx, `#password button[type=submit]`)
	// polled: the toast goes by itself after a few seconds, and a busy
	// machine may read it just as it leaves
	get(t, ctx, chromedp.Poll[bool](`[...document.querySelectorAll(".toast")].some((e) => e.textContent.includes("Your password is changed"))`))
	signOut(t, ctx)
	signIn(t, ctx, base, email, newPassword)
	if name := textOf(t, ctx, ".user-menu .user-name"); name != "Maria R. Rossi" {
		t.Fatalf("signed in as %q", name)
	}
}

// TestAdminResetsPasswordUserChoosesOwn: an admin resets a member's
// password and reads the temporary one; the member signs in with it, must
// choose their own before anything else, and then works normally.
func TestAdminResetsPasswordUserChoosesOwn(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings#users"), chromedp.WaitVisible(css("#users")))
	row := "#" + get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#users tbody tr")].find(r => r.textContent.includes("jonas.becker@")).id`))
	do(t, ctx,
		chromedp.Click(css(row+` form[action$="/reset-password"] button`)),
		chromedp.WaitVisible(css("#ask-dialog")),
	)
	if q := textOf(t, ctx, "#ask-title"); q != "Reset Jonas Becker’s password?" {
		t.Fatalf("dialog %q", q)
	}
	do(t, ctx, chromedp.Click(css("#ask-ok")), chromedp.WaitVisible(css("#reset-password")))
	temp := get(t, ctx, chromedp.Value(css("#reset-password")))
	if len(temp) != 17 || !strings.Contains(textOf(t, ctx, "#reset-callout"), "Jonas Becker (jonas.becker@example.com)") {
		t.Fatalf("temporary password %q", temp)
	}
	do(t, ctx, chromedp.ScrollIntoView(css("#users")))
	atWidth(t, ctx, "settings-reset-1440", 1440)
	atWidth(t, ctx, "settings-reset-390", 390)

	user := browser(t)
	do(t, user,
		chromedp.Navigate(base+"/login?next=%2Fcrm%2Fsegments"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "jonas.becker@example.com"),
		chromedp.SendKeys(css("#password"), temp),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css("#password-title")),
	)
	atWidth(t, user, "password-forced-1440", 1440)
	atWidth(t, user, "password-forced-390", 390)
	// nothing else opens until the password is chosen
	do(t, user, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#password-title")))
	do(t, user,
		chromedp.SendKeys(css("#password"), "jonas chose this"),
		chromedp.SendKeys(css("#confirm"), "jonas chose this"),
		chromedp.Click(css(`form[action="/settings/password"] button[type=submit]`)),
		chromedp.WaitVisible(css(".sidenav")),
		chromedp.WaitVisible(css(".toast")),
	)
	if toast := textOf(t, user, ".toast"); !strings.Contains(toast, "Your password is set") {
		t.Fatalf("toast %q", toast)
	}
	signOut(t, user)
	signIn(t, user, base, "jonas.becker@example.com", "jonas chose this")
}

// TestCustomFieldKeyFollowsLabel: the key fills in from the label as it is
// typed, stays editable, and a key in use is refused beside the field.
func TestCustomFieldKeyFollowsLabel(t *testing.T) {
	ctx := browser(t, allow(`^422 POST /settings/fields$`, "a key already in use is refused"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings#fields"), chromedp.WaitVisible(css("#add-field")))
	do(t, ctx, chromedp.SendKeys(css("#f-label"), "Renewal date (UK)"))
	if key := get(t, ctx, chromedp.Value(css("#f-key"))); key != "renewal_date_uk" {
		t.Fatalf("key from the label: %q", key)
	}
	do(t, ctx, chromedp.ScrollIntoView(css("#fields")))
	screenshot(t, ctx, "settings-field-key-from-label")
	do(t, ctx, chromedp.SetValue(css("#f-type"), "date"))
	submitAndWait(t, ctx, `#add-field button[type=submit]`)
	if row := rowWith(t, ctx, "#fields", "renewal_date_uk"); !strings.Contains(row, "Renewal date (UK)") {
		t.Fatalf("field row %q", row)
	}

	// edited by hand, the key no longer follows the label
	do(t, ctx,
		chromedp.SendKeys(css("#f-label"), "Café préféré"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-key").value = ""`),
		chromedp.SendKeys(css("#f-key"), "favourite_cafe"),
		chromedp.SendKeys(css("#f-label"), " 2"),
	)
	if key := get(t, ctx, chromedp.Value(css("#f-key"))); key != "favourite_cafe" {
		t.Fatalf("a key typed by hand changed to %q", key)
	}
	// emptied, it follows again; the same label again is refused beside the key
	do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-label").value = ""; document.getElementById("f-key").value = ""`),
		chromedp.SendKeys(css("#f-key"), "x\b"), // typed and erased: following again
		chromedp.SendKeys(css("#f-label"), "Renewal date UK"),
	)
	if key := get(t, ctx, chromedp.Value(css("#f-key"))); key != "renewal_date_uk" {
		t.Fatalf("key after emptying: %q", key)
	}
	do(t, ctx, chromedp.Click(css(`#add-field button[type=submit]`)), chromedp.WaitVisible(css("#f-key-error")))
	if msg := textOf(t, ctx, "#f-key-error"); !strings.Contains(msg, "already exists") {
		t.Fatalf("key error %q", msg)
	}
	settingsShot(t, ctx, "settings-field-key-taken", "#fields")
}

// TestAvatarsComeFromOurOrigin: the customer table shows pictures and
// initials, and the browser asks nothing of any origin but the product's:
// every request of the page is recorded from the network events.
func TestAvatarsComeFromOurOrigin(t *testing.T) {
	var pic bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for x := range 96 {
		for y := range 96 {
			img.Set(x, y, color.RGBA{R: uint8(40 + x), G: 120, B: uint8(200 - y), A: 255})
		}
	}
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := 0
	gravatar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked++
		mu.Unlock()
		hash := strings.TrimPrefix(r.URL.Path, "/avatar/")
		if hash == "" || hash[0] > '7' { // about half the addresses have a picture
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pic.Bytes())
	}))
	defer gravatar.Close()

	ctx := browser(t)
	var rmu sync.Mutex
	var requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			rmu.Lock()
			requests = append(requests, e.Request.URL)
			rmu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	base := serve(t, "--demo", "--gravatar-url", gravatar.URL+"/avatar/")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#customer-table")))
	// every avatar of the first rows (the rest load lazily) shows its picture, or
	// its initials once the picture was dropped
	get(t, ctx, chromedp.Poll[bool](`[...document.querySelectorAll("#customer-table tbody tr")].slice(0, 10).every(r => {
		const i = r.querySelector(".avatar img"); return !i || i.classList.contains("loaded"); })`))
	pictures := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#customer-table .avatar img.loaded").length`))
	initials := get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#customer-table .avatar")].filter(a => !a.querySelector("img") && a.textContent.trim() !== "").length`))
	if pictures == 0 || initials == 0 {
		t.Fatalf("%d pictures and %d initials: want both", pictures, initials)
	}
	atWidth(t, ctx, "avatars-table-1440", 1440)

	// the drawer's picture too
	do(t, ctx, chromedp.Click(css("#customer-table tbody tr a")), chromedp.WaitVisible(css(".drawer")))
	get(t, ctx, chromedp.Poll[bool](`[...document.querySelectorAll(".drawer .avatar img")].every(i => i.complete)`))

	own, _ := url.Parse(base)
	rmu.Lock()
	defer rmu.Unlock()
	avatarRequests := 0
	for _, r := range requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != own.Host) {
			t.Errorf("the browser asked another origin: %s", r)
		}
		if strings.HasPrefix(u.Path, "/avatars/") {
			avatarRequests++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if avatarRequests == 0 || asked == 0 {
		t.Fatalf("%d avatar requests to us, %d to Gravatar by the server", avatarRequests, asked)
	}
}
