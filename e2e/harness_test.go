// Package e2e drives the real binary with a real browser: each test builds
// and starts `crm serve` on a free port with a temporary database and signs in
// through Chromium (chromedp). Screenshots land in e2e/screenshots/.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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

var runningAt = regexp.MustCompile(`Customers is running at (http://\S+)`)

// serve starts the product with extra arguments and returns its base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "crm.db"), "--data-dir", dir}, args...)...)
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
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		// a page restored from the back-forward cache fires no load event for NavigateBack to wait on
		chromedp.Flag("disable-features", "BackForwardCache"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithListener(failOnConsoleErrors(t)))
	ctx, cancelC := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// failOnConsoleErrors is a listener that fails the test, at its end, for
// every uncaught exception and console.error of the pages it visited.
func failOnConsoleErrors(t *testing.T) func(ev any) {
	var mu sync.Mutex
	var errs []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			t.Errorf("the page logged an error: %s", e)
		}
	})
	return func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			msg += fmt.Sprintf(" (%s:%d)", ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber+1)
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		default:
			return
		}
		mu.Lock()
		errs = append(errs, msg)
		mu.Unlock()
	}
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

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
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
		chromedp.WaitVisible(css(".sidenav")),
	)
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
