package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestGuardSeesEveryKindOfPageError: the guard that every browser test
// carries reports a console.error, an uncaught exception, an unhandled
// rejection, a failed request and a 4xx/5xx response, lets through exactly
// what the test allows, and reports an allowance nothing needed.
func TestGuardSeesEveryKindOfPageError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>t</title><link rel="icon" href="data:,"><p id="done">page</p>`)
		case "/gone":
			http.Error(w, "gone", http.StatusNotFound)
		case "/expected":
			http.Error(w, "refused", http.StatusUnprocessableEntity)
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	ctx, g := guardedBrowser(t,
		allow(`^422 POST /expected$`, "a refusal the test causes"),
		allow(`^418 GET /never$`, "an allowance nothing needs"))
	do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(css("#done")),
		chromedp.Evaluate[chromedp.Void](`console.error("something broke", 42)`),
		chromedp.Evaluate[chromedp.Void](`setTimeout(() => { throw new Error("thrown later") })`),
		chromedp.Evaluate[chromedp.Void](`Promise.reject(new Error("nobody caught me")); undefined`),
		chromedp.Evaluate[chromedp.Void](`fetch("/gone"); fetch("/expected", {method: "POST"}); fetch("/boom"); undefined`),
		chromedp.Evaluate[chromedp.Void](`fetch("http://nowhere.invalid/x").catch(() => {}); undefined`),
	)
	want := []string{
		"console.error: something broke 42",
		"exception: Uncaught Error: thrown later",
		"exception: Uncaught (in promise) Error: nobody caught me",
		"404 GET /gone",
		"500 GET /boom",
		"failed GET http://nowhere.invalid/x: net::ERR_NAME_NOT_RESOLVED",
		`allowed "^418 GET /never$"`,
	}
	// the events arrive on their own: wait until each is in (or the step's time is up)
	has := func(got []string, w string) bool {
		return slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) })
	}
	wctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	g.waitUntil(wctx, func(got []string) bool {
		return !slices.ContainsFunc(want, func(w string) bool { return !has(got, w) })
	})
	got := g.problems()
	for _, w := range want {
		if !has(got, w) {
			t.Errorf("the guard missed %q; it reported:\n%s", w, strings.Join(got, "\n"))
		}
	}
	for _, p := range got {
		if strings.Contains(p, "/expected") || strings.Contains(p, "Failed to load resource") {
			t.Errorf("reported although allowed, or twice: %s", p)
		}
	}
}
