package accounts

import (
	"context"
	"crypto/rand"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/crm"
)

// Your own account, and an admin's password reset (issue 17, item 6).
//
// A password change or reset raises the user's session version
// (crm.User.SessionVersion): every session begun under the older version is
// over (web.SessionUser ends it), so a change signs the user out everywhere
// else; the session that made a change takes the new version and stays.
// API tokens are not sessions: they keep working until revoked.

// checkPassword applies the rules of set-up to a new password.
func checkPassword(field, p string) *crm.Error {
	if n := utf8.RuneCountInString(p); n < MinPassword {
		return crm.Invalid(field, "Use at least %d characters.", MinPassword)
	} else if n > MaxPassword {
		return crm.Invalid(field, "Use at most %d characters.", MaxPassword)
	}
	return nil
}

// Rename changes the actor's own name.
func (s *Service) Rename(ctx context.Context, actor *crm.User, name string) (*crm.User, error) {
	if err := crm.CheckText("name", name); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, crm.FieldErrors{crm.Invalid("name", "Enter your name.")}
	} else if utf8.RuneCountInString(name) > 200 {
		return nil, crm.FieldErrors{crm.Invalid("name", "Use at most 200 characters.")}
	}
	return s.Store.UpdateUser(ctx, actor.ID, crm.UserPatch{Name: &name}, s.Now())
}

// ChangePassword replaces the actor's own password. The current password is
// required, except right after signing in with a temporary one (an admin's
// reset), when the session has just proved it. Wrong current passwords count
// as failed sign-ins of the pair (e-mail, ip), so a taken-over session cannot
// try passwords faster than the sign-in form. It returns the user with the
// new session version, which the caller's session takes.
func (s *Service) ChangePassword(ctx context.Context, actor *crm.User, current, next, ip string) (*crm.User, error) {
	for f, v := range map[string]string{"current": current, "password": next} {
		if err := crm.CheckText(f, v); err != nil {
			return nil, err
		}
	}
	u, err := s.Store.GetUser(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	var fe crm.FieldErrors
	if !u.MustChangePassword {
		now := s.Now()
		f, err := s.Store.CountLoginFailures(ctx, u.Email, ip, now.Add(-FailureMemory), now.Add(-SprayWindow))
		if err != nil {
			return nil, err
		}
		if until := lockedUntil(f); now.Before(until) {
			return nil, &crm.Error{Code: crm.CodeRateLimited, Message: "Too many wrong passwords from here. Try again later."}
		}
		if current == "" {
			fe.Add("current", "Enter your current password.")
		} else if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
			if err := s.Store.RecordLoginFailure(ctx, u.Email, ip, now); err != nil {
				return nil, err
			}
			fe.Add("current", "This is not your current password.")
		}
	}
	if e := checkPassword("password", next); e != nil {
		fe = append(fe, e)
	} else if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(next)) == nil {
		if u.MustChangePassword {
			fe.Add("password", "Choose a password of your own, not the temporary one.")
		} else {
			fe.Add("password", "This is your current password; choose a new one.")
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	hash, err := s.HashPassword(next)
	if err != nil {
		return nil, err
	}
	no := false
	// only if no reset (or other change of the password) committed while
	// the passwords were checked and hashed (a bcrypt call each)
	return s.Store.UpdateUser(ctx, u.ID, crm.UserPatch{PasswordHash: &hash, MustChangePassword: &no, EndSessions: true,
		IfSessionVersion: &u.SessionVersion}, s.Now())
}

// ResetPassword gives a user a temporary password, returned in plain text
// for the admin to pass on (the only time it is shown): the user's sessions
// end, and their next sign-in leads to a page that makes them choose their
// own before anything else. Admins only, for an active user other than
// themselves (they change their own password on their account).
func (s *Service) ResetPassword(ctx context.Context, actor *crm.User, userID int64) (string, *crm.User, error) {
	if !actor.IsAdmin() {
		return "", nil, crm.Forbidden("Only an admin can reset passwords.")
	}
	if userID == actor.ID {
		return "", nil, crm.Conflict("To change your own password, use Your account.")
	}
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if !u.Active {
		return "", nil, crm.Conflict("%s is deactivated; reactivate them first.", u.Name)
	}
	temp := TemporaryPassword()
	hash, err := s.HashPassword(temp)
	if err != nil {
		return "", nil, err
	}
	yes := true
	u, err = s.Store.UpdateUser(ctx, userID, crm.UserPatch{PasswordHash: &hash, MustChangePassword: &yes, EndSessions: true}, s.Now())
	return temp, u, err
}

// TemporaryPassword is 15 random characters in three groups (about 77 bits),
// from an alphabet without look-alikes, easy to read out or type.
func TemporaryPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // 31 symbols: no i, l, o, 0, 1
	var b strings.Builder
	buf := make([]byte, 1)
	for n := 0; n < 15; {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		if buf[0] >= 248 { // 248 = 8*31: keep the choice uniform
			continue
		}
		if n > 0 && n%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		n++
	}
	return b.String()
}
