package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
)

// AvatarURL is the customer's picture for an e-mail, or "" when there is
// none: a path on the product's own origin (GET /avatars/{hash}), whose
// server fetches and caches the Gravatar picture, so a browser never asks a
// third party. The hash is Gravatar's: SHA-256 of the trimmed, lower-cased
// address.
func AvatarURL(email string) string {
	h := AvatarHash(email)
	if h == "" {
		return ""
	}
	return "/avatars/" + h
}

// AvatarHash is Gravatar's hash of an e-mail ("" for none).
func AvatarHash(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}

// ValidAvatarHash reports whether h is a hash AvatarHash makes (64 lower-case hex digits).
func ValidAvatarHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Avatar is one cached answer of Gravatar: a picture, or (Bytes nil) the
// knowledge that there is none.
type Avatar struct {
	Hash        string
	FetchedAt   time.Time
	ContentType string
	Bytes       []byte // nil: no picture
}

// AvatarStore caches Gravatar's answers (avatar_cache).
type AvatarStore interface {
	// GetAvatar returns the cached answer for a hash; ErrNotFound when never fetched.
	GetAvatar(ctx context.Context, hash string) (*Avatar, error)
	// PutAvatar stores (or replaces) the answer for a hash.
	PutAvatar(ctx context.Context, a Avatar) error
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
