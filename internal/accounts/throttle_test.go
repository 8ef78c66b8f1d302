package accounts_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

func codeOf(err error) crm.Code {
	if err == nil {
		return "ok"
	}
	return crm.CodeOf(err)
}

func throttleEnv(t *testing.T, db *store.DB) (*accounts.Service, *clock) {
	c := &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	s := accounts.New(db)
	s.Cost = bcrypt.MinCost
	s.Now = c.now
	for _, e := range []string{"mia@example.com", "bo@example.com"} {
		if _, err := s.CreateUser(t.Context(), nil, accounts.NewUser{Email: e, Name: e, Role: crm.RoleMember, Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
	}
	return s, c
}

// Wrong passwords from one client slow down that client for that account
// only: the right password from another client always works, and the
// lock-out grows with every further failure of the pair.
func TestThrottlePerAccountAndClient(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s, c := throttleEnv(t, db)
		ctx := t.Context()
		try := func(email, pass, ip string) crm.Code {
			_, err := s.Authenticate(ctx, email, pass, ip)
			return codeOf(err)
		}
		const attacker, office = "198.51.100.7", "203.0.113.9"
		for i := range accounts.MaxFailures {
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeUnauthorized {
				t.Fatalf("failure %d: %s", i+1, got)
			}
		}
		if got := try("mia@example.com", "correct horse", attacker); got != crm.CodeRateLimited {
			t.Fatalf("the guessing client is not slowed: %s", got)
		}
		// the owner of the account, elsewhere, signs in; a typo there is just a typo
		if got := try("mia@example.com", "typo", office); got != crm.CodeUnauthorized {
			t.Fatalf("a typo from another client: %s", got)
		}
		if got := try("mia@example.com", "correct horse", office); got != "ok" {
			t.Fatalf("the right password from another client is locked out: %s", got)
		}
		// another account from the guessing client is not affected
		if got := try("bo@example.com", "correct horse", attacker); got != "ok" {
			t.Fatalf("another account from the same client: %s", got)
		}
		// the owner's sign-in does not wipe the guesser's record
		if got := try("mia@example.com", "guess", attacker); got != crm.CodeRateLimited {
			t.Fatalf("the guesser's lock was lifted by the owner's sign-in: %s", got)
		}

		// back-off: the lock after the 5th failure is short, each further failure doubles it
		lock := accounts.FirstLockout
		for round := range 4 {
			c.add(lock - time.Second)
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeRateLimited {
				t.Fatalf("round %d: open before %s: %s", round, lock, got)
			}
			c.add(time.Second)
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeUnauthorized {
				t.Fatalf("round %d: still locked after %s: %s", round, lock, got)
			}
			lock *= 2
		}
		// the lock never exceeds MaxLockout, and a day without failures forgets them
		for range 10 {
			c.add(accounts.MaxLockout)
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeUnauthorized {
				t.Fatalf("locked longer than %s: %s", accounts.MaxLockout, got)
			}
		}
		c.add(accounts.FailureMemory + time.Second)
		for i := range accounts.MaxFailures {
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeUnauthorized {
				t.Fatalf("a day later, failure %d: %s", i+1, got)
			}
		}
		// a successful sign-in of the pair clears the pair's record
		c.add(accounts.MaxLockout)
		if got := try("mia@example.com", "correct horse", attacker); got != "ok" {
			t.Fatalf("sign-in after the lock: %s", got)
		}
		for i := range accounts.MaxFailures {
			if got := try("mia@example.com", "guess", attacker); got != crm.CodeUnauthorized {
				t.Fatalf("after success, failure %d: %s", i+1, got)
			}
		}
	})
}

// Many failures from one address (a proxy, or someone trying one password
// on many accounts) do not lock out the people behind it: a correct password
// still works for an account that address has not failed on repeatedly, but
// once the address is over SprayFailures each account gets fewer guesses.
func TestThrottleSprayingAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := throttleEnv(t, db)
		ctx := t.Context()
		const proxy = "192.0.2.1"
		for i := range accounts.SprayFailures + 5 {
			if _, err := s.Authenticate(ctx, fmt.Sprintf("user%d@example.com", i), "Summer2025!", proxy); crm.CodeOf(err) != crm.CodeUnauthorized {
				t.Fatalf("spray %d: %v", i, err)
			}
		}
		if _, err := s.Authenticate(ctx, "mia@example.com", "correct horse", proxy); err != nil {
			t.Fatalf("a correct password behind a busy address: %v", err)
		}
		for i := range accounts.SprayPairFailures {
			if _, err := s.Authenticate(ctx, "bo@example.com", "guess", proxy); crm.CodeOf(err) != crm.CodeUnauthorized {
				t.Fatalf("guess %d at bo: %v", i, err)
			}
		}
		if _, err := s.Authenticate(ctx, "bo@example.com", "correct horse", proxy); crm.CodeOf(err) != crm.CodeRateLimited {
			t.Fatalf("a spraying address keeps guessing one account: %v", err)
		}
		if _, err := s.Authenticate(ctx, "bo@example.com", "correct horse", "203.0.113.50"); err != nil {
			t.Fatalf("bo from elsewhere: %v", err)
		}
	})
}
