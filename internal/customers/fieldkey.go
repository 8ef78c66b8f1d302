package customers

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// FieldKeyFromLabel derives a custom field's key from its label, by the
// rules the key must meet (fieldKeyRe): accents dropped ("é" -> "e"), lower
// case, other letters (and every run of other characters) one "_", no "_" at either end, "f_" before a leading digit, at most 40
// characters. The Settings form does the same as the label is typed
// (settings.js keyFromLabel); this is the fallback without JavaScript.
func FieldKeyFromLabel(label string) string {
	var b strings.Builder
	gap := false
	for _, r := range norm.NFD.String(strings.ToLower(label)) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			gap = false
			b.WriteRune(r)
		default:
			gap = true
		}
	}
	key := b.String()
	if key != "" && key[0] >= '0' && key[0] <= '9' {
		key = "f_" + key
	}
	if len(key) > 40 {
		key = strings.TrimRight(key[:40], "_")
	}
	return key
}
