package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme/crm/internal/seed"
)

// A reference that makes a browser contact a host: an attribute that loads
// or leads somewhere, a CSS url(), a script's import or fetch; the host is
// the part after "//".
var (
	attrRef   = regexp.MustCompile(`(?i)\b(?:src|srcset|href|action|formaction|poster|data|background|content)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//([^/"'\s>?#]+)`)
	cssRef    = regexp.MustCompile(`(?i)url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//([^/"'\s)?#]+)`)
	jsRef     = regexp.MustCompile(`(?i)\b(?:import|fetch|importScripts|new\s+(?:WebSocket|EventSource|Worker))\s*\(?\s*["'\x60]\s*(?:[a-z][a-z0-9+.-]*:)?//([^/"'\x60\s?#]+)`)
	staticRef = regexp.MustCompile(`"(/static/[^"?]+)(?:\?[^"]*)?"`)
	firstRow  = regexp.MustCompile(`<tr data-id="(\d+)"`)
	companyID = regexp.MustCompile(`href="/crm/companies/(\d+)"`)
	csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// foreignHosts lists each host other than own that text refers to with re.
func foreignHosts(re *regexp.Regexp, text, own string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if h := strings.ToLower(m[1]); h != strings.ToLower(own) && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// TestNoThirdPartyOrigins: no page the product serves, signed in or not,
// nor any of its scripts and style sheets, makes the browser contact another
// origin (issue 17: avatars, fonts, scripts, images all come from the
// product itself).
func TestNoThirdPartyOrigins(t *testing.T) {
	base := serve(t, "--demo")
	own := strings.TrimPrefix(base, "http://")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	fetch := func(path string) (int, string) {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return res.StatusCode, string(b)
	}

	pages := map[string]string{} // path -> HTML
	check := func(path string) string {
		t.Helper()
		st, body := fetch(path)
		if st >= 500 || !strings.Contains(body, "<html") {
			t.Fatalf("GET %s: %d, not a page", path, st)
		}
		pages[path] = body
		return body
	}

	// Signed out: the sign-in page, an unsubscribe page.
	login := check("/login")
	check("/u/not-a-link")
	m := csrfInput.FindStringSubmatch(login)
	if m == nil {
		t.Fatal("the sign-in page has no CSRF token")
	}
	res, err := client.PostForm(base+"/login", url.Values{"csrf_token": {m[1]}, "email": {seed.DemoAdminEmail}, "password": {seed.DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	table := check("/crm/customers")
	if !strings.Contains(table, `id="customer-table"`) {
		t.Fatal("not signed in: the table is missing")
	}
	id := firstRow.FindStringSubmatch(table)
	if id == nil {
		t.Fatal("the table has no rows")
	}
	for _, p := range []string{"/crm/customers?owner=none", "/crm/customers?q=zzqqxx", "/crm/customers/" + id[1],
		"/crm/customers/" + id[1] + "?tab=activity", "/crm/customers/" + id[1] + "?tab=messages", "/crm/customers/" + id[1] + "?tab=records",
		"/crm/segments", "/crm/duplicates", "/crm/imports", "/crm/imports?new=1", "/crm/companies", "/settings", "/crm/customers/999999"} {
		check(p)
	}
	if co := companyID.FindStringSubmatch(pages["/crm/customers/"+id[1]]); co != nil {
		check("/crm/companies/" + co[1])
	} else {
		t.Error("the drawer links to no company page")
	}

	assets := map[string]bool{}
	for path, html := range pages {
		if hosts := foreignHosts(attrRef, html, own); len(hosts) > 0 {
			t.Errorf("%s refers to another origin: %s", path, strings.Join(hosts, ", "))
		}
		if hosts := foreignHosts(cssRef, html, own); len(hosts) > 0 {
			t.Errorf("%s has styles from another origin: %s", path, strings.Join(hosts, ", "))
		}
		for _, a := range staticRef.FindAllStringSubmatch(html, -1) {
			assets[a[1]] = true
		}
	}
	if len(assets) < 3 {
		t.Fatalf("only %d static files referenced: %v", len(assets), assets)
	}
	for a := range assets {
		st, body := fetch(a)
		if st != 200 {
			t.Errorf("GET %s: %d", a, st)
			continue
		}
		for _, re := range []*regexp.Regexp{cssRef, jsRef} {
			if hosts := foreignHosts(re, body, own); len(hosts) > 0 {
				t.Errorf("%s loads from another origin: %s", a, strings.Join(hosts, ", "))
			}
		}
	}
}
