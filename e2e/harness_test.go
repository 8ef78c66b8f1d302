// Package e2e drives the real binary with a real browser: each test builds
// and starts `crm serve` on a free port with a temporary database and signs in
// through Chromium (chromedp). Screenshots land in e2e/screenshots/.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/crm once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crm-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "crm")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/crm").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	noGravatarOnce sync.Once
	noGravatarURL  string
)

// noGravatar is a stand-in Gravatar for the whole test run that knows no
// picture (404, as Gravatar answers d=404 for an unknown address).
func noGravatar() string {
	noGravatarOnce.Do(func() {
		srv := httptest.NewServer(http.NotFoundHandler()) // lives as long as the test binary
		noGravatarURL = srv.URL
	})
	return noGravatarURL
}

var runningAt = regexp.MustCompile(`Customers is running at (http://\S+)`)

// serve starts the product with extra arguments and returns its base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "crm.db"), "--data-dir", dir}, args...)...)
	// The server never reaches the internet either: its Gravatar is a local
	// one without pictures, unless the test names another (--gravatar-url).
	cmd.Env = append(os.Environ(), "CRM_GRAVATAR_URL="+noGravatar()+"/avatar/")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if testing.Verbose() {
		cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the server did not stop within 10 s of SIGINT")
		}
	})
	t.Cleanup(func() { sealGuard(t) }) // runs before the stop above (cleanups run last first)
	urlc := make(chan string, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return u
	case <-ended:
		t.Fatalf("the server stopped before it was ready:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start within 60 s:\n%s", stderr.String())
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// chromiumPath finds the browser; in CI a missing browser fails, locally it skips.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CRM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: browser tests are required in CI (apt-get install -y chromium)")
	}
	t.Skip("no Chromium installed: skipping browser tests (apt-get install -y chromium to run them)")
	return ""
}

// browser returns a chromedp context of a fresh headless Chromium at 1280x800.
// Every page error fails the test (see guard), except those the test lists
// with allow.
func browser(t *testing.T, allowed ...allowance) context.Context {
	t.Helper()
	ctx, g := guardedBrowser(t, allowed...)
	t.Cleanup(func() { // runs before the browser stops (cleanups run last first)
		for _, p := range g.problems() {
			t.Error(p)
		}
	})
	return ctx
}

// guardedBrowser starts the browser of browser, and returns its guard
// without checking it at the end.
func guardedBrowser(t *testing.T, allowed ...allowance) (context.Context, *guard) {
	t.Helper()
	g := &guard{allowed: allowed, always: everywhere, changed: make(chan struct{}, 1)}
	guards.Store(t, g)
	t.Cleanup(func() { guards.Delete(t) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		// no test reaches the internet: every other host is "offline", the same on every machine
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		// a page restored from the back-forward cache fires no load event for NavigateBack to wait on
		chromedp.Flag("disable-features", "BackForwardCache"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithListener(g.event))
	ctx, cancelC := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx, g
}

// everywhere are the browser errors of the product's design, allowed in
// every test without being required: none. (Avatars used to be asked of
// gravatar.com by the browser, failing offline; the server now fetches them
// and answers from our origin, 204 when there is none: issue 17.)
var everywhere []allowance

// allowance is a browser error a test causes on purpose: a regular
// expression over the error's line (see guard) and the reason.
type allowance struct {
	re  *regexp.Regexp
	why string
}

// allow lets a test's page show an error it expects, for example
// allow(`^400 PATCH /api/v1/contacts/\d+$`, "a bad e-mail typed on purpose").
// An allowance no error needed fails the test too, so the lists stay true.
func allow(pattern, why string) allowance {
	return allowance{re: regexp.MustCompile(pattern), why: why}
}

// guard watches a tab for what a user would never be shown silently: a
// console.error, an uncaught exception or promise rejection, an error of
// the browser's log, a request that failed, and a response of 400 or more.
// Each becomes one line:
//
//	400 PATCH /api/v1/contacts/12          (a response, path of this server)
//	failed GET /x.js: net::ERR_…           (a request that got no response)
//	console.error: text (url:line)
//	exception: text (url:line)
//	log error [source]: text (url)
//
// At the end of the test every line no allowance matches fails it.
type guard struct {
	mu       sync.Mutex
	allowed  []allowance                  // by the test: each must be met
	always   []allowance                  // by the harness (everywhere)
	requests map[network.RequestID]string // "METHOD url" of each request, by id
	failedID map[network.RequestID]bool   // requests already reported
	lines    []guardLine
	changed  chan struct{} // a line was added
	sealed   bool          // the test has ended and its server is stopping: nothing more counts
}

// guards are the guards of the running tests, so that serve can seal a
// test's guard before it stops the server: a picture still loading then
// fails for the stop, not for the product.
var guards sync.Map // *testing.T -> *guard

// sealGuard stops counting the page errors of t's browser.
func sealGuard(t *testing.T) {
	if g, ok := guards.Load(t); ok {
		g := g.(*guard)
		g.mu.Lock()
		g.sealed = true
		g.mu.Unlock()
	}
}

// guardLine is one error; a note of the browser's log about a request says
// which (it is left out when that request's failure is reported anyway).
type guardLine struct {
	text    string
	request network.RequestID
}

func (g *guard) add(text string, request network.RequestID) {
	if g.sealed {
		return
	}
	g.lines = append(g.lines, guardLine{text, request})
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// waitUntil returns once done holds of the problems, or when ctx ends.
func (g *guard) waitUntil(ctx context.Context, done func(problems []string) bool) {
	for !done(g.problems()) {
		select {
		case <-g.changed:
		case <-ctx.Done():
			return
		}
	}
}

// event runs on chromedp's reading goroutine: it only records.
func (g *guard) event(ev any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.requests == nil {
		g.requests, g.failedID = map[network.RequestID]string{}, map[network.RequestID]bool{}
	}
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		g.requests[e.RequestID] = e.Request.Method + " " + shortURL(e.Request.URL)
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 {
			g.failedID[e.RequestID] = true
			g.add(fmt.Sprintf("%d %s", e.Response.Status, g.requests[e.RequestID]), "")
		}
	case *network.EventLoadingFailed:
		if e.Canceled && e.BlockedReason == "" {
			return // the page moved on or the user chose a download: not a failure
		}
		if g.failedID[e.RequestID] {
			return
		}
		g.failedID[e.RequestID] = true
		g.add(strings.TrimSpace(fmt.Sprintf("failed %s: %s %s", g.requests[e.RequestID], e.ErrorText, e.BlockedReason)), "")
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, remoteText(a))
		}
		where := ""
		if st := e.StackTrace; st != nil && len(st.CallFrames) > 0 {
			where = fmt.Sprintf(" (%s:%d)", shortURL(st.CallFrames[0].URL), st.CallFrames[0].LineNumber+1)
		}
		g.add("console."+string(e.Type)+": "+strings.Join(parts, " ")+where, "")
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			desc, _, _ := strings.Cut(remoteText(d.Exception), "\n") // the stack follows
			text += " " + desc
		}
		g.add(fmt.Sprintf("exception: %s (%s:%d)", text, shortURL(d.URL), d.LineNumber+1), "")
	case *cdplog.EventEntryAdded:
		en := e.Entry
		if en.Level != cdplog.EntryLevelError {
			return
		}
		g.add(fmt.Sprintf("log error [%s]: %s (%s)", en.Source, en.Text, shortURL(en.URL)), en.NetworkRequestID)
	}
}

// problems are the errors no allowance matched, and the allowances of the
// test that nothing needed.
func (g *guard) problems() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	met := make([]bool, len(g.allowed))
	for _, l := range g.lines {
		if l.request != "" && g.failedID[l.request] {
			continue // the browser's note of a failure reported on its own line
		}
		line, ok := l.text, false
		for i, a := range g.allowed {
			if a.re.MatchString(line) {
				met[i], ok = true, true
			}
		}
		for _, a := range g.always {
			ok = ok || a.re.MatchString(line)
		}
		if !ok {
			out = append(out, "the browser showed an error the test did not expect: "+line)
		}
	}
	for i, a := range g.allowed {
		if !met[i] {
			out = append(out, fmt.Sprintf("allowed %q (%s), but no such error happened: drop the allowance", a.re, a.why))
		}
	}
	return out
}

// shortURL is a URL of the server under test as its path and query.
func shortURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !strings.HasPrefix(u.Host, "127.0.0.1:") {
		return s
	}
	return u.RequestURI()
}

// remoteText is a console argument or exception as the console shows it.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Value)
}

// screenshot saves the page as e2e/screenshots/NAME.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// textOf waits for sel and returns its visible text. It is read in the page
// by one script, not through DevTools node ids: those go stale when the
// document is replaced just after a navigation, which failed a CI run with
// "No node with given id found" although the element was there.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	got, err := chromedp.Run(sctx, chromedp.Poll[struct{ Text string }](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); return e && { Text: e.innerText }; })()`, sel)))
	if err != nil {
		failShot(t, ctx)
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(got.Text)
}

// stepTimeout bounds one batch of steps, so a wait that never ends fails
// quickly with a screenshot of what the page showed instead.
const stepTimeout = 20 * time.Second

// do runs browser steps or fails the test (saving a screenshot of the failure).
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		failShot(t, ctx)
		t.Fatal(err)
	}
}

// get runs one browser action that answers a value, or fails the test.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		failShot(t, ctx)
		t.Fatal(err)
	}
	return v
}

// failShot saves what the page shows when a step fails, as failure-TEST.png.
func failShot(t *testing.T, ctx context.Context) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		return
	}
	name := "failure-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + ".png"
	if os.MkdirAll("screenshots", 0o755) == nil && os.WriteFile(filepath.Join("screenshots", name), png, 0o644) == nil {
		t.Logf("screenshot of the failure: e2e/screenshots/%s", name)
	}
}

// css is a CSS selector.
func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// signIn signs the demo admin in and waits for the shell.
func signIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitReady(css(".sidenav")), // present once signed in; behind the menu button on a phone
	)
	// the next steps act on the signed-in page: wait until it has loaded, not
	// only parsed, so they do not meet a document that is still settling
	get(t, ctx, chromedp.Poll[bool](`document.readyState === "complete"`))
}

// rowCount counts the table's rows.
func rowCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#customer-table tbody tr").length`))
}

// present waits until sel is in the page (scrolled into view or not).
func present(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf("!!document.querySelector(%q)", sel)))
}

// menu opens a popover menu and clicks one of its items, once the opened menu
// has scrolled itself into view (clicking while it moves would miss).
func menu(t *testing.T, ctx context.Context, summary, item string) {
	t.Helper()
	do(t, ctx, chromedp.Click(css(summary)))
	get(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
		const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; })()`, item)))
	do(t, ctx, chromedp.Click(css(item)))
}
