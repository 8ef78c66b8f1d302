package e2e

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// TestToolbarExportKeepsTheFilter: with filters and a search on, the
// toolbar's Export downloads the CSV of exactly the customers the table
// counts (issue 12, item 1: the link used to escape its whole query and
// answer "is not a filter").
func TestToolbarExportKeepsTheFilter(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)

	// Two filters from the URL, then a search typed in the box (which keeps them).
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?country=DE&tag=VIP&tag=Newsletter"), chromedp.WaitVisible(css("#customer-table tbody tr")))
	word := strings.Fields(textOf(t, ctx, "#customer-table tbody tr:first-child .name"))[0]
	do(t, ctx, chromedp.SendKeys(css("#q"), word), chromedp.Submit(css("#q")),
		chromedp.WaitVisible(css(`.chips a[aria-label^="Remove filter Search"]`)))
	if chips := textOf(t, ctx, ".chips"); !strings.Contains(chips, "Search: "+word) || !strings.Contains(chips, "Country: Germany") || !strings.Contains(chips, "Tag: VIP") {
		t.Fatalf("filters and search not both on: %q", chips)
	}
	want, err := strconv.Atoi(strings.ReplaceAll(textOf(t, ctx, "#match-count"), ",", ""))
	if err != nil || want == 0 {
		t.Fatalf("match count %q", textOf(t, ctx, "#match-count"))
	}
	shown := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#customer-table tbody tr")].map(r => r.dataset.id)`))

	// Click Export and wait for the browser's download to finish.
	dir := t.TempDir()
	wctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	progress := chromedp.Events(wctx, cdpbrowser.DownloadProgress)
	do(t, ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(css("#export-all")),
	)
	file := ""
	for ev, err := range progress {
		if err != nil {
			failShot(t, ctx)
			t.Fatalf("no download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("the download is not a CSV: %v", err)
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("no %s column in %v", name, rows[0])
		}
		return i
	}
	id, country, tags, name := col("id"), col("country"), col("tags"), col("full_name")
	if got := len(rows) - 1; got != want {
		t.Fatalf("the export holds %d customers, the table counts %d", got, want)
	}
	var ids []string
	for _, r := range rows[1:] {
		ts := strings.Split(r[tags], ";")
		if r[country] != "DE" || !slices.ContainsFunc(ts, func(s string) bool { s = strings.TrimSpace(s); return s == "VIP" || s == "Newsletter" }) {
			t.Fatalf("exported a customer outside the filter: %v", r)
		}
		if !strings.Contains(strings.ToLower(strings.Join(r, " ")), strings.ToLower(word)) {
			t.Fatalf("exported a customer the search %q does not find: %s", word, r[name])
		}
		ids = append(ids, r[id])
	}
	for _, s := range shown {
		if !slices.Contains(ids, s) {
			t.Fatalf("customer %s of the table is not in the export", s)
		}
	}
}
