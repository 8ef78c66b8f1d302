package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestNoInlineStyles: the Content-Security-Policy (style-src 'self') refuses
// style attributes and <style> elements, and the browser logs each refusal:
// no template may have one. Nor may a page ask a third-party origin for
// anything (issue 17, item 7): every src and href is our own.
func TestNoInlineStylesNorThirdPartyOrigins(t *testing.T) {
	inline := regexp.MustCompile(`(?i)\sstyle\s*=|<style[\s>]`)
	external := regexp.MustCompile(`(?i)(?:src|href|action)\s*=\s*"(?:https?:)?//`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if inline.MatchString(line) {
				t.Errorf("%s:%d: an inline style the CSP refuses: %s", p, i+1, strings.TrimSpace(line))
			}
			if external.MatchString(line) {
				t.Errorf("%s:%d: a third-party origin: %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
