package crm

import (
	"strings"
	"sync"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search meaning, the same on every engine: every word typed must be the
// start of a word of the customer's name, primary e-mail, company name or
// primary phone. Words are lower-cased with accents removed ("Jörg" finds
// "jorg"), split at anything that is not a letter or digit (so an e-mail is
// the words of its parts), and a phone is indexed by its E.164 digits and by
// its national number (so "+49 151 2345" and "0151 2345" both find it).

// A chain of transformers keeps state while it runs, so it cannot be shared
// by goroutines at once (an import and a customer made by hand: a shared one
// panicked in the tests); each call takes one of its own from the pool.
var folds = sync.Pool{New: func() any { return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC) }}

// FoldVersion names the folding Fold does; a store whose search text was
// written with another one rebuilds it (docs/architecture.md, "Search").
// Version 2 added the letters of foldLetters ("weiß" was not "weiss").
const FoldVersion = "2"

// foldLetters are letters that are not a base letter plus accents, so that
// removing accents leaves them as they are: each is written the way a person
// types it on a plain keyboard. Upper-case letters are lower-cased first.
var foldLetters = strings.NewReplacer(
	"ß", "ss", "ẞ", "ss",
	"ø", "o", "æ", "ae", "œ", "oe",
	"đ", "d", "ð", "d", "ł", "l", "þ", "th",
	"ħ", "h", "ı", "i", "ŀ", "l", "ĸ", "k", "ŋ", "n", "ŧ", "t",
	"ĳ", "ij", "ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st",
)

// Fold is the one folding of search: lower case, accents removed and the
// letters of foldLetters spelled out, so that "Weiß", "WEISS" and "weiss"
// are one word. The search text is written with it and queries are parsed
// with it (SearchText, SearchTerms).
func Fold(s string) string {
	fold := folds.Get().(transform.Transformer)
	defer folds.Put(fold)
	lower := strings.ToLower(s)
	f, _, err := transform.String(fold, lower)
	if err != nil {
		f = lower
	}
	return foldLetters.Replace(f)
}

// searchWords splits text into folded words.
func searchWords(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// SearchText is the indexed text of a customer: folded words, space-separated.
func SearchText(fullName, email, phone, company string) string {
	words := searchWords(fullName + " " + email + " " + company)
	if phone != "" {
		digits := strings.TrimPrefix(phone, "+")
		words = append(words, digits)
		if num, err := phonenumbers.Parse(phone, ""); err == nil {
			words = append(words, phonenumbers.GetNationalSignificantNumber(num))
		}
	}
	return strings.Join(words, " ")
}

// SearchTerms turns what a person typed into the words to look for: folded,
// with runs of digit groups joined ("+49 151 23" is one number) and leading
// zeros of a number dropped (a national "0151..." is the "151..." indexed).
func SearchTerms(q string) []string {
	var out []string
	for _, w := range searchWords(q) {
		if isDigits(w) && len(out) > 0 && isDigits(out[len(out)-1]) {
			out[len(out)-1] += w
			continue
		}
		out = append(out, w)
	}
	for i, w := range out {
		if isDigits(w) {
			if t := strings.TrimLeft(w, "0"); t != "" {
				out[i] = t
			}
		}
	}
	if len(out) > 8 {
		out = out[:8]
	}
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// MatchesSearch is the meaning of a search over one indexed text; the stores'
// indexes implement exactly this (and tests compare them with it).
func MatchesSearch(searchText string, terms []string) bool {
	words := strings.Fields(searchText)
	for _, t := range terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
