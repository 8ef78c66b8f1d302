// Package accounts holds the rules about users: creating them, signing in
// (with throttling), first-run set-up, roles, and personal API tokens.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/crm"
)

// Sign-in throttling. A failed sign-in is recorded for the pair (e-mail,
// client address), and the pair is what is slowed down:
//
//   - MaxFailures failures of a pair are free; after that the pair is locked
//     for FirstLockout after its latest failure, doubling with every further
//     failure up to MaxLockout. Failures older than FailureMemory are
//     forgotten, and a successful sign-in clears the pair's record.
//   - Nothing is ever locked for the account as a whole, so a guesser
//     elsewhere cannot lock the owner out: the right password from another
//     client always works. Guessing from many addresses is bounded per
//     address, by bcrypt's cost and by the password rules.
//   - Many failures from one address (SprayFailures within SprayWindow, any
//     e-mails: one password tried on many accounts) do not lock that address
//     out, since a whole office may sign in through one proxy; they tighten
//     the pair limit instead, to SprayPairFailures failures per account. An
//     account that address has not failed on repeatedly still signs in.
//
// The client address is the peer, or with trusted proxies configured the
// address they forwarded (see web.ClientIP).
const (
	MaxFailures       = 5
	FirstLockout      = time.Minute
	MaxLockout        = time.Hour
	FailureMemory     = 24 * time.Hour
	SprayFailures     = 20
	SprayWindow       = 15 * time.Minute
	SprayPairFailures = 3

	MinPassword = 8
	MaxPassword = 128
)

// lockedUntil is when the pair may try again (zero: now).
func lockedUntil(f crm.LoginFailures) time.Time {
	limit := MaxFailures
	if f.IP >= SprayFailures {
		limit = min(limit, SprayPairFailures)
	}
	if f.Pair < limit {
		return time.Time{}
	}
	if f.IP >= SprayFailures && f.Pair < MaxFailures {
		// a busy address: wait until it calms down (or the lock of the pair ends)
		return f.PairLast.Add(SprayWindow)
	}
	lock := MaxLockout
	if n := f.Pair - MaxFailures; n < 16 {
		lock = min(FirstLockout<<n, MaxLockout)
	}
	return f.PairLast.Add(lock)
}

// ErrBadCredentials is the one message for a wrong e-mail, a wrong password
// or a deactivated user, so that sign-in never reveals which e-mails exist.
var ErrBadCredentials = &crm.Error{Code: crm.CodeUnauthorized, Message: "The e-mail or password is incorrect."}

// Service implements the account rules.
type Service struct {
	Store crm.Store
	Now   func() time.Time
	// Cost is the bcrypt cost; tests may lower it.
	Cost int
}

// New returns a Service with the real clock and bcrypt's default cost.
func New(s crm.Store) *Service {
	return &Service{Store: s, Now: time.Now, Cost: bcrypt.DefaultCost}
}

// HashPassword hashes a password with bcrypt.
func (s *Service) HashPassword(plain string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(plain), s.Cost)
	return string(h), err
}

// NewUser is the input of CreateUser and Setup.
type NewUser struct {
	Email    string
	Name     string
	Role     crm.Role
	Password string
}

func (s *Service) validate(n *NewUser) error {
	var fe crm.FieldErrors
	if err := crm.CheckText("email", n.Email); err != nil {
		return err
	}
	if err := crm.CheckText("name", n.Name); err != nil {
		return err
	}
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	if n.Email == "" {
		fe.Add("email", "Enter an e-mail address.")
	} else if _, err := crm.NormalizeEmail(n.Email); err != nil {
		fe.Add("email", "%q is not an e-mail address.", n.Email)
	}
	if n.Name == "" {
		fe.Add("name", "Enter a name.")
	} else if utf8.RuneCountInString(n.Name) > 200 {
		fe.Add("name", "Use at most 200 characters.")
	}
	if !n.Role.Valid() {
		fe.Add("role", "Choose admin or member.")
	}
	if n := utf8.RuneCountInString(n.Password); n < MinPassword {
		fe.Add("password", "Use at least %d characters.", MinPassword)
	} else if n > MaxPassword {
		fe.Add("password", "Use at most %d characters.", MaxPassword)
	}
	return fe.Err()
}

// CreateUser adds a user. actor nil means the system (CLI, seed); otherwise
// only an admin may add users.
func (s *Service) CreateUser(ctx context.Context, actor *crm.User, n NewUser) (*crm.User, error) {
	if actor != nil && !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can add users.")
	}
	if err := s.validate(&n); err != nil {
		return nil, err
	}
	hash, err := s.HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	u := &crm.User{Email: n.Email, Name: n.Name, Role: n.Role, Active: true, PasswordHash: hash, CreatedAt: s.Now()}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if crm.CodeOf(err) == crm.CodeConflict {
			return nil, crm.FieldErrors{crm.Invalid("email", "A user with this e-mail already exists.")}
		}
		return nil, err
	}
	return u, nil
}

// NeedsSetup reports whether the database has no user yet (first run).
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.Store.CountUsers(ctx)
	return n == 0, err
}

// Setup creates the first admin; refused once any user exists.
func (s *Service) Setup(ctx context.Context, n NewUser) (*crm.User, error) {
	n.Role = crm.RoleAdmin
	var u *crm.User
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		count, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if count > 0 {
			return crm.Conflict("This installation is already set up. Sign in instead.")
		}
		u, err = (&Service{Store: tx, Now: s.Now, Cost: s.Cost}).CreateUser(ctx, nil, n)
		return err
	})
	return u, err
}

// Authenticate checks an e-mail and password. ip identifies the client for throttling.
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (*crm.User, error) {
	now := s.Now()
	email = strings.ToLower(strings.TrimSpace(email))
	f, err := s.Store.CountLoginFailures(ctx, email, ip, now.Add(-FailureMemory), now.Add(-SprayWindow))
	if err != nil {
		return nil, err
	}
	if until := lockedUntil(f); now.Before(until) {
		wait := int(until.Sub(now).Round(time.Minute) / time.Minute)
		msg := "Too many failed sign-ins from here. Try again in a minute."
		if wait > 1 {
			msg = fmt.Sprintf("Too many failed sign-ins from here. Try again in %d minutes.", wait)
		}
		return nil, &crm.Error{Code: crm.CodeRateLimited, Message: msg}
	}
	u, err := s.Store.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		return nil, err
	}
	hash := dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	// Compare even for unknown e-mails, so the time taken does not tell them apart.
	match := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	if u == nil || !match || !u.Active {
		if err := s.Store.RecordLoginFailure(ctx, email, ip, now); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	if err := s.Store.ClearLoginFailures(ctx, email, ip); err != nil {
		return nil, err
	}
	return u, nil
}

var dummyHash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)
	return string(h)
}()

// TokenPrefix starts every API token, so that a leaked one is recognisable.
const TokenPrefix = "crm_"

func hashToken(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

// CreateToken makes a personal API token for userID and returns it in plain
// text: the only time it is ever shown. A user makes their own; an admin may
// make one for anyone.
func (s *Service) CreateToken(ctx context.Context, actor *crm.User, userID int64, name string) (string, *crm.APIToken, error) {
	if actor != nil && actor.ID != userID && !actor.IsAdmin() {
		return "", nil, crm.Forbidden("You can only create tokens for yourself.")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", nil, crm.Invalid("name", "Use at most 100 characters.")
	}
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if !u.Active {
		return "", nil, crm.Conflict("%s is deactivated.", u.Email)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &crm.APIToken{UserID: userID, Name: name, Hash: hashToken(plain), Prefix: plain[:len(TokenPrefix)+6], CreatedAt: s.Now()}
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// UserForToken returns the active user owning a live token.
func (s *Service) UserForToken(ctx context.Context, plain string) (*crm.User, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return nil, &crm.Error{Code: crm.CodeUnauthorized, Message: "The API token is not valid."}
	}
	u, err := s.Store.UserByTokenHash(ctx, hashToken(plain), s.Now())
	if errors.Is(err, crm.ErrNotFound) {
		return nil, &crm.Error{Code: crm.CodeUnauthorized, Message: "The API token is not valid or was revoked."}
	}
	return u, err
}

// ListTokens lists a user's tokens (never their secret).
func (s *Service) ListTokens(ctx context.Context, actor *crm.User, userID int64) ([]crm.APIToken, error) {
	if actor.ID != userID && !actor.IsAdmin() {
		return nil, crm.Forbidden("You can only see your own tokens.")
	}
	return s.Store.ListAPITokens(ctx, userID)
}

// RevokeToken revokes one of a user's tokens.
func (s *Service) RevokeToken(ctx context.Context, actor *crm.User, userID, tokenID int64) error {
	if actor.ID != userID && !actor.IsAdmin() {
		return crm.Forbidden("You can only revoke your own tokens.")
	}
	return s.Store.RevokeAPIToken(ctx, userID, tokenID, s.Now())
}

// ListUsers lists every user; any signed-in user may see who can own customers.
func (s *Service) ListUsers(ctx context.Context) ([]crm.User, error) {
	return s.Store.ListUsers(ctx)
}

// UserChange is an admin's edit of a user; nil fields stay.
type UserChange struct {
	Name   *string
	Role   *crm.Role
	Active *bool
}

// UpdateUser changes a user's name, role or active flag (admins only). A
// deactivated user cannot sign in and their tokens stop working; their
// customers stay owned until released or reassigned. The last active admin
// cannot be demoted or deactivated, nor can admins deactivate themselves.
func (s *Service) UpdateUser(ctx context.Context, actor *crm.User, id int64, ch UserChange) (*crm.User, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can change users.")
	}
	var fe crm.FieldErrors
	if ch.Name != nil {
		n := strings.TrimSpace(*ch.Name)
		if n == "" || utf8.RuneCountInString(n) > 200 {
			fe.Add("name", "Enter a name of at most 200 characters.")
		}
		ch.Name = &n
	}
	if ch.Role != nil && !ch.Role.Valid() {
		fe.Add("role", "Choose admin or member.")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *crm.User
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		// a change that may take an admin away counts the admins after
		// locking them: two admins demoting each other at once both
		// counted two, and left none
		if (ch.Role != nil && *ch.Role != crm.RoleAdmin) || (ch.Active != nil && !*ch.Active) {
			if err := tx.LockAdmins(ctx); err != nil {
				return err
			}
		}
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if ch.Active != nil && !*ch.Active && id == actor.ID {
			return crm.Conflict("You cannot deactivate yourself; ask another admin.")
		}
		losesAdmin := u.IsAdmin() && u.Active && ((ch.Role != nil && *ch.Role != crm.RoleAdmin) || (ch.Active != nil && !*ch.Active))
		if losesAdmin {
			users, err := tx.ListUsers(ctx)
			if err != nil {
				return err
			}
			admins := 0
			for _, o := range users {
				if o.IsAdmin() && o.Active {
					admins++
				}
			}
			if admins <= 1 {
				return crm.Conflict("%s is the last active admin; make someone else an admin first.", u.Name)
			}
		}
		out, err = tx.UpdateUser(ctx, id, crm.UserPatch{Name: ch.Name, Role: ch.Role, Active: ch.Active}, s.Now())
		return err
	})
	return out, err
}
