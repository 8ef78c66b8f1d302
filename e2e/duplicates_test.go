package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// fetchJSON runs a request of the API from the page, as the signed-in user,
// and answers the status and the body as text.
func fetchJSON(t *testing.T, ctx context.Context, method, path, body string) (int, string) {
	t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	js := fmt.Sprintf(`fetch(%q, { method: %q, headers: { "Content-Type": "application/json", Accept: "application/json",
		"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content }, body: %s })
		.then(async (r) => ({ status: r.status, body: await r.text() }))`, path, method, map[bool]string{true: "undefined", false: fmt.Sprintf("%q", body)}[body == ""])
	a := get(t, ctx, chromedp.Evaluate[answer](js, chromedp.EvalAwaitPromise))
	return a.Status, a.Body
}

// shotAt saves what the window shows at a width (a full-page picture would
// lay the page out anew), then goes back to the test's size.
func shotAt(t *testing.T, ctx context.Context, name string, width, height int64) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(width, height))
	png := get(t, ctx, chromedp.CaptureScreenshot())
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.EmulateViewport(1280, 800))
}

// Issue 12, item 10: adding a customer with an e-mail another customer has
// warns beside the field with that customer's name and a link, keeps what
// was typed, and adds only on a deliberate "Add anyway".
func TestAddCustomerWarnsOfDuplicate(t *testing.T) {
	ctx := browser(t, allow(`^409 POST /api/v1/customers$`, "a submit without the warning asks the API to check, which answers 409 naming the holders"))
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/customers"), chromedp.WaitVisible(css("#add-customer")))

	st, body := fetchJSON(t, ctx, "POST", "/api/v1/customers", `{"full_name": "Heike Doppel", "company_name": "Doppel AG", "contact": {"channel": "email", "value": "heike.doppel@example.net"}}`)
	if st != 201 {
		t.Fatalf("create %d %s", st, body)
	}
	id := strings.TrimSuffix(strings.SplitN(strings.SplitN(body, `"id":`, 2)[1], ",", 2)[0], "}")

	do(t, ctx,
		chromedp.Click(css("#add-customer")), chromedp.WaitVisible(css("#a-name")),
		chromedp.SendKeys(css("#a-name"), "Heike Doppel"),
		chromedp.SendKeys(css("#a-contact"), " Heike.Doppel@Example.NET"),
		chromedp.SendKeys(css("#a-tags"), "fair"),
		chromedp.Focus(css("#a-tags")), // leaving the field looks the address up
		chromedp.WaitVisible(css("#add-dup")),
	)
	warn := textOf(t, ctx, "#add-dup")
	if !strings.Contains(warn, "already has this e-mail address") || !strings.Contains(warn, "Heike Doppel") || !strings.Contains(warn, "Doppel AG") {
		t.Fatalf("warning says %q", warn)
	}
	if href := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#add-dup a").getAttribute("href")`)); href != "/crm/customers/"+id {
		t.Fatalf("the warning links to %q, want the customer %s", href, id)
	}
	if b := textOf(t, ctx, "#add-submit"); b != "Add anyway" {
		t.Fatalf("the button says %q", b)
	}
	for sel, want := range map[string]string{"#a-name": "Heike Doppel", "#a-contact": " Heike.Doppel@Example.NET", "#a-tags": "fair"} {
		if v := get(t, ctx, chromedp.Value(css(sel))); v != want {
			t.Fatalf("%s holds %q after the warning, want %q", sel, v, want)
		}
	}
	screenshot(t, ctx, "add-customer-duplicate")
	shotAt(t, ctx, "add-customer-duplicate", 1440, 900)
	shotAt(t, ctx, "add-customer-duplicate", 390, 844)

	// Another address takes the warning away; a submit with a held one asks
	// first (the API answers 409 with the holders) and warns again.
	typeContact := func(v string) chromedp.Action[chromedp.Void] { // as typing does: the value, then an input event
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const i = document.getElementById("a-contact"); i.value = %q;
			i.dispatchEvent(new Event("input", { bubbles: true })); })()`, v))
	}
	do(t, ctx, typeContact("heike.doppel@example.ne"))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("add-dup").hidden && document.getElementById("add-submit").textContent === "Add customer"`))
	do(t, ctx, typeContact("heike.doppel@example.net"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("add-form").requestSubmit(); undefined`))
	get(t, ctx, chromedp.Poll[bool](`!document.getElementById("add-dup").hidden && document.getElementById("add-submit").textContent === "Add anyway"`))
	holders := func() int {
		st, body := fetchJSON(t, ctx, "GET", "/api/v1/contacts/lookup?channel=email&value=heike.doppel%40example.net", "")
		if st != 200 {
			t.Fatalf("lookup %d %s", st, body)
		}
		return strings.Count(body, `"full_name":"Heike Doppel"`)
	}
	if n := holders(); n != 1 {
		t.Fatalf("%d customers hold the address before Add anyway", n)
	}

	do(t, ctx, chromedp.Click(css("#add-submit")), chromedp.WaitVisible(css(".toast")))
	if n := holders(); n != 2 {
		t.Fatalf("%d customers hold the address after Add anyway", n)
	}
	if row := textOf(t, ctx, "#customer-table tbody tr:first-child"); !strings.Contains(row, "Heike Doppel") {
		t.Fatalf("the new customer is not at the top of the table: %q", row)
	}
}

// Issue 12, item 11: one row per pair of customers with every shared value;
// "Not a duplicate" hides the pair for good; "Review and merge" opens the
// pair's merge preview, whose picker tells the two apart.
func TestPossibleDuplicatesPerPair(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/duplicates"), chromedp.WaitVisible(css("#duplicates")))

	// the first pair of the demo data gets a second shared value, a phone
	a := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#duplicates tbody tr").dataset.pair`))
	ids := strings.Split(a, "-")
	for _, id := range ids {
		if st, body := fetchJSON(t, ctx, "POST", "/api/v1/customers/"+id+"/contacts", `{"channel": "phone", "value": "+49 30 99887766"}`); st != 201 {
			t.Fatalf("add phone %d %s", st, body)
		}
	}
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(css("#duplicates")))
	pairs := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#duplicates tbody tr")].map((r) => r.dataset.pair)`))
	seen := map[string]bool{}
	for _, p := range pairs {
		if seen[p] {
			t.Fatalf("the pair %s shows twice", p)
		}
		seen[p] = true
	}
	if len(pairs) < 3 || pairs[0] != a {
		t.Fatalf("pairs %v, want %s first", pairs, a)
	}
	row := textOf(t, ctx, "#duplicates tbody tr:first-child")
	if !strings.Contains(row, "same e-mail") || !strings.Contains(row, "same phone") || !strings.Contains(row, "+49 30 99887766") {
		t.Fatalf("the first row says %q", row)
	}
	screenshot(t, ctx, "duplicates")
	shotAt(t, ctx, "duplicates", 1440, 900)
	shotAt(t, ctx, "duplicates", 390, 844)

	// Not a duplicate: the row goes, and stays gone after a reload.
	do(t, ctx, chromedp.Click(css(`#duplicates tbody tr:first-child [data-not-duplicate]`)))
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`!document.querySelector('#duplicates tr[data-pair="%s"]')`, a)))
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(css("#duplicates")))
	if n := get(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('#duplicates tr[data-pair="%s"]').length`, a))); n != 0 {
		t.Fatalf("the pair %s still shows after Not a duplicate and a reload", a)
	}

	// Review and merge: the table with the two, their merge preview open.
	next := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#duplicates tbody tr").dataset.pair`))
	do(t, ctx, chromedp.Click(css(`#duplicates tbody tr:first-child a.btn`)), chromedp.WaitVisible(css("#merge-pick .merge-plan")))
	picked := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#merge-pick input[name="primary"]')].map((r) => r.value).sort((x, y) => x - y)`))
	if strings.Join(picked, "-") != next {
		t.Fatalf("the merge picker holds %v, want the pair %s", picked, next)
	}
	details := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#merge-pick [data-slot="details"]')].map((d) => d.textContent)`))
	for _, d := range details {
		parts := strings.Split(d, " · ")
		if len(parts) != 4 || !strings.Contains(parts[0], "@") && parts[0] != "no e-mail" || !strings.HasPrefix(parts[3], "added 20") ||
			!strings.HasPrefix(parts[2], "owner ") && parts[2] != "unclaimed" {
			t.Fatalf("a customer of the picker reads %q, want e-mail · company · owner · added", d)
		}
	}
	if plan := textOf(t, ctx, "#merge-pick .merge-plan"); !strings.Contains(plan, "Into ") || !strings.Contains(plan, "contact") {
		t.Fatalf("the preview says %q", plan)
	}
	screenshot(t, ctx, "duplicates-merge-preview")
	shotAt(t, ctx, "duplicates-merge-preview", 1440, 900)
	shotAt(t, ctx, "duplicates-merge-preview", 390, 844)
}
