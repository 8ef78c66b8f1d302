package crm

import (
	"slices"
	"testing"
)

func TestSearchText(t *testing.T) {
	got := SearchText("Jörg Müller-Lüdenscheidt", "J.Mueller5000@Dudek-Cargo.net", "+4915123456789", "Dudek Cargo S.p.A.")
	want := "jorg muller ludenscheidt j mueller5000 dudek cargo net dudek cargo s p a 4915123456789 15123456789"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestSearchTermsAndMatching(t *testing.T) {
	text := SearchText("Zoë O'Brien", "zoe.obrien@example.org", "+4930123456", "Acme GmbH")
	for q, want := range map[string]bool{
		"zoe":                    true,
		"ZOË":                    true,
		"o brien":                true,
		"brie":                   true,
		"zoe.obrien@example.org": true,
		"example.org":            true,
		"acme":                   true,
		"+49 30 123456":          true,
		"030 123456":             true,
		"0301":                   true,
		"rien":                   false, // inside a word, not its start
		"zoe smith":              false, // every word must match
		"globex":                 false,
	} {
		if got := MatchesSearch(text, SearchTerms(q)); got != want {
			t.Errorf("%q: %v, want %v (terms %q, text %q)", q, got, want, SearchTerms(q), text)
		}
	}
	if got := SearchTerms("+49 (0)30 12-34"); !slices.Equal(got, []string{"490301234"}) {
		t.Errorf("digit runs: %q", got)
	}
}
