package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/webhooks"
)

// TestWebhooksSettings: an admin adds an endpoint (a receiver in this test)
// in Settings, copies its secret; a customer is created; the receiver gets
// the signed event and the endpoint's delivery log shows it delivered with
// its status code; "Send again" posts the same event id once more.
func TestWebhooksSettings(t *testing.T) {
	var mu sync.Mutex
	type post struct {
		sig  string
		body []byte
	}
	var posts []post
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, post{r.Header.Get(webhooks.SignatureHeader), b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	waitPosts := func(n int) []post {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			got := append([]post(nil), posts...)
			mu.Unlock()
			if len(got) >= n {
				return got
			}
			if time.Now().After(end) {
				t.Fatalf("the receiver got %d posts, want %d", len(got), n)
			}
		}
	}

	ctx := browser(t, allow(`^422 POST /settings/webhooks$`, "an endpoint without events is refused"))
	base := serve(t, "--demo", "--webhook-allow-private")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/settings#webhooks"), chromedp.WaitVisible(css("#add-webhook")))

	// No event ticked: refused beside the events, the URL kept.
	do(t, ctx, chromedp.SendKeys(css("#wh-url"), rc.URL+"/hook"), chromedp.Click(css(`#add-webhook button[type=submit]`)),
		chromedp.WaitVisible(css("#wh-events-error")))
	if kept := get(t, ctx, chromedp.Value(css("#wh-url"))); kept != rc.URL+"/hook" {
		t.Fatalf("the typed URL is lost: %q", kept)
	}
	do(t, ctx, chromedp.Click(css(`#add-webhook input[value="customer.created"]`)), chromedp.Click(css(`#add-webhook input[value="customer.tagged"]`)))
	submitAndWait(t, ctx, `#add-webhook button[type=submit]`)
	secret := get(t, ctx, chromedp.Value(css("#new-webhook-secret")))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	if row := rowWith(t, ctx, "#webhooks", "/hook"); !strings.Contains(row, "customer.created") || !strings.Contains(row, "Enabled") {
		t.Fatalf("endpoint row %q", row)
	}
	do(t, ctx, chromedp.EmulateViewport(1440, 900))
	settingsShot(t, ctx, "webhooks-settings-1440", "#webhooks")

	// A change: a customer is created (through the API, as this session).
	created := get(t, ctx, chromedp.Evaluate[float64](`(async () => {
		const r = await fetch("/api/v1/customers", {method: "POST", headers: {"Content-Type": "application/json",
			"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}, body: JSON.stringify({full_name: "Webhook Wendy"})});
		return (await r.json()).id; })()`, chromedp.EvalAwaitPromise))
	first := waitPosts(1)[0]
	if err := webhooks.Verify(secret, first.sig, first.body, time.Now(), 0); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var ev struct {
		ID, Type string
		Data     struct {
			CustomerID float64 `json:"customer_id"`
		}
	}
	if err := json.Unmarshal(first.body, &ev); err != nil || ev.Type != "customer.created" || ev.Data.CustomerID != created {
		t.Fatalf("event %s (%v)", first.body, err)
	}

	// The delivery log shows it delivered, with the status code.
	do(t, ctx, chromedp.Click(css(`#webhooks a[href^="/settings/webhooks/"]`)), chromedp.WaitVisible(css("#log-title")))
	var row string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		row = textOf(t, ctx, ".webhook-log tbody tr:first-child")
		if strings.Contains(row, "Delivered") || time.Now().After(end) {
			break
		}
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(css("#log-title")))
	}
	if !strings.Contains(row, "customer.created") || !strings.Contains(row, "Delivered") || !strings.Contains(row, "204") || !strings.Contains(row, "ms") {
		t.Fatalf("log row %q", row)
	}
	screenshot(t, ctx, "webhooks-log-1440")

	// Send again: the same event id, posted once more.
	submitAndWait(t, ctx, `.webhook-log tbody tr:first-child button[type=submit]`)
	again := waitPosts(2)[1]
	if !strings.Contains(string(again.body), `"id":"`+ev.ID+`"`) || webhooks.Verify(secret, again.sig, again.body, time.Now(), 0) != nil {
		t.Fatalf("sent again: %s", again.body)
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(css("#log-title")))
		if row = textOf(t, ctx, ".webhook-log tbody tr:first-child"); strings.Contains(row, "Delivered") || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(row, "Delivered") {
		t.Fatalf("after send again: %q", row)
	}

	// Show the secret; the phone layout.
	do(t, ctx, chromedp.Click(css(`#secret button[type=submit]`)), chromedp.WaitVisible(css("#webhook-secret")))
	if got := get(t, ctx, chromedp.Value(css("#webhook-secret"))); got != secret {
		t.Fatalf("shown secret %q", got)
	}
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(css("#log-title")))
	screenshot(t, ctx, "webhooks-log-390")
	do(t, ctx, chromedp.Navigate(base+"/settings#webhooks"), chromedp.WaitVisible(css("#webhooks")))
	settingsShot(t, ctx, "webhooks-settings-390", "#webhooks")
}
