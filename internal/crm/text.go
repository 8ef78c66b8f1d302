package crm

import (
	"strings"
	"unicode/utf8"
)

// TextProblem says what is wrong with a text value, or "" when nothing is:
// NUL characters (PostgreSQL cannot store them, SQLite would) and invalid
// UTF-8 are refused everywhere, so that both engines answer alike. The HTTP
// edge refuses them first; services check again for every other way in.
func TextProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character, which is not allowed"
	}
	return ""
}

// CheckText refuses the first of values with a TextProblem, naming field.
func CheckText(field string, values ...string) error {
	for _, v := range values {
		if p := TextProblem(v); p != "" {
			return Invalid(field, "%s", p)
		}
	}
	return nil
}
