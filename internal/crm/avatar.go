package crm

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// AvatarURL is the Gravatar picture for an e-mail, or "" when there is none.
// d=404 makes Gravatar answer "not found" for unknown addresses so the page
// falls back to initials (also when offline).
func AvatarURL(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(email))
	return "https://www.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=96&d=404"
}

// Initials returns up to two initials of a name for the avatar fallback.
func Initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)
		if len(r) > 0 && unicode.IsLetter(r[0]) {
			out = append(out, unicode.ToUpper(r[0]))
		}
	}
	switch len(out) {
	case 0:
		return "?"
	case 1:
		return string(out)
	}
	return string([]rune{out[0], out[len(out)-1]})
}

// NameKey is the sort key of a name: lower-cased and trimmed, the same in both engines.
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }
