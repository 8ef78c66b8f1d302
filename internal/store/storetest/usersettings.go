package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// UserPasswordState checks what a password reset and change write: the
// forced change flag, and the session version that ends older sessions.
func UserPasswordState(t *testing.T, s crm.Store) {
	u := newUser(t, s, "reset@example.com", crm.RoleMember)
	if u2, _ := s.GetUser(ctx, u.ID); u2.MustChangePassword || u2.SessionVersion != 0 {
		t.Fatalf("a new user: %+v", u2)
	}
	hash, yes := "temporary", true
	got, err := s.UpdateUser(ctx, u.ID, crm.UserPatch{PasswordHash: &hash, MustChangePassword: &yes, EndSessions: true}, t0)
	must(t, err)
	if !got.MustChangePassword || got.SessionVersion != 1 || got.PasswordHash != "temporary" {
		t.Fatalf("after reset %+v", got)
	}
	name := "Renamed"
	got, err = s.UpdateUser(ctx, u.ID, crm.UserPatch{Name: &name}, t0) // leaves both alone
	must(t, err)
	if !got.MustChangePassword || got.SessionVersion != 1 {
		t.Fatalf("after rename %+v", got)
	}
	no, hash2 := false, "chosen"
	_, err = s.UpdateUser(ctx, u.ID, crm.UserPatch{PasswordHash: &hash2, MustChangePassword: &no, EndSessions: true}, t0)
	must(t, err)
	got, err = s.GetUserByEmail(ctx, "reset@example.com")
	must(t, err)
	if got.MustChangePassword || got.SessionVersion != 2 || got.PasswordHash != "chosen" {
		t.Fatalf("after change %+v", got)
	}
	tok := &crm.APIToken{UserID: u.ID, Name: "t", Hash: []byte("usersettings-token-hash-00000000"), Prefix: "crm_u", CreatedAt: t0}
	must(t, s.CreateAPIToken(ctx, tok))
	byTok, err := s.UserByTokenHash(ctx, tok.Hash, t0)
	must(t, err)
	if byTok.SessionVersion != 2 || byTok.Name != "Renamed" {
		t.Fatalf("token user %+v", byTok)
	}
}

// AvatarCache checks the Gravatar cache: a picture, the absence of one
// (NULL bytes), and replacement. (The SQLite driver reads an empty blob
// as NULL: the service never stores an empty picture.)
func AvatarCache(t *testing.T, s crm.Store) {
	h := crm.AvatarHash("someone@example.com")
	_, err := s.GetAvatar(ctx, h)
	wantCode(t, err, crm.CodeNotFound)
	png := []byte("\x89PNG\r\n\x1a\nfake")
	must(t, s.PutAvatar(ctx, crm.Avatar{Hash: h, FetchedAt: t0, ContentType: "image/png", Bytes: png}))
	a, err := s.GetAvatar(ctx, h)
	must(t, err)
	if !bytes.Equal(a.Bytes, png) || a.ContentType != "image/png" || !a.FetchedAt.Equal(t0) {
		t.Fatalf("picture %+v", a)
	}
	t1 := t0.Add(time.Hour)
	must(t, s.PutAvatar(ctx, crm.Avatar{Hash: h, FetchedAt: t1}))
	a, err = s.GetAvatar(ctx, h)
	must(t, err)
	if a.Bytes != nil || a.ContentType != "" || !a.FetchedAt.Equal(t1) {
		t.Fatalf("absence %+v", a)
	}
}
