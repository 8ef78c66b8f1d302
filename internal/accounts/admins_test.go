package accounts_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// TestTwoAdminsTakeEachOtherAwayAtOnce: the only two admins demote (or
// deactivate) each other at the same moment, many rounds: one change is
// made and the other refused as taking the last admin away. Each used to
// count two admins before either wrote, and on PostgreSQL both changes
// went through in 29 of 30 rounds, leaving no admin to run the product.
func TestTwoAdminsTakeEachOtherAwayAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := accounts.New(db)
		s.Cost = bcrypt.MinCost
		ctx := t.Context()
		member, inactive := crm.RoleMember, false
		changes := map[string]accounts.UserChange{"demote": {Role: &member}, "deactivate": {Active: &inactive}}
		for round := range 20 {
			for what, change := range changes {
				var us [2]*crm.User
				for i := range us {
					u, err := s.CreateUser(ctx, nil, accounts.NewUser{Email: fmt.Sprintf("%s%d-%d@example.com", what, round, i), Name: "Admin",
						Role: crm.RoleAdmin, Password: "correct horse battery"})
					if err != nil {
						t.Fatal(err)
					}
					us[i] = u
				}
				var errs [2]error
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range us {
					wg.Go(func() { <-start; _, errs[i] = s.UpdateUser(ctx, us[i], us[1-i].ID, change) })
				}
				close(start)
				wg.Wait()
				left := 0
				for _, u := range us {
					x, err := db.GetUser(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					if x.IsAdmin() && x.Active {
						left++
					}
				}
				refused := errs[0]
				if refused == nil {
					refused = errs[1]
				}
				if left != 1 || (errs[0] == nil) == (errs[1] == nil) || crm.CodeOf(refused) != crm.CodeConflict {
					t.Fatalf("round %d, %s each other: %d admins left, errors %v", round, what, left, errs)
				}
				// the one left steps down outside the rule, so that the next
				// round starts again from two admins
				for _, u := range us {
					if _, err := db.UpdateUser(ctx, u.ID, crm.UserPatch{Role: &member}, u.CreatedAt); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}

// TestPasswordChangeDoesNotUndoAReset: a password change decided before an
// admin's reset committed (it checks and hashes the passwords, hundreds of
// milliseconds) is refused instead of overwriting the reset: the temporary
// password stays the one that works, and the sessions the reset ended stay
// ended.
func TestPasswordChangeDoesNotUndoAReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := accounts.New(db)
		s.Cost = bcrypt.MinCost
		ctx := t.Context()
		admin, err := s.CreateUser(ctx, nil, accounts.NewUser{Email: "boss@example.com", Name: "Boss", Role: crm.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		mia, err := s.CreateUser(ctx, nil, accounts.NewUser{Email: "mia@example.com", Name: "Mia", Role: crm.RoleMember, Password: "mia's own password"})
		if err != nil {
			t.Fatal(err)
		}
		decided, err := db.GetUser(ctx, mia.ID) // what her change checked its passwords against
		if err != nil {
			t.Fatal(err)
		}
		temp, _, err := s.ResetPassword(ctx, admin, mia.ID)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := s.HashPassword("mia's newer password")
		if err != nil {
			t.Fatal(err)
		}
		no := false
		_, err = db.UpdateUser(ctx, mia.ID, crm.UserPatch{PasswordHash: &hash, MustChangePassword: &no, EndSessions: true,
			IfSessionVersion: &decided.SessionVersion}, time.Now())
		if crm.CodeOf(err) != crm.CodeConflict {
			t.Fatalf("a change decided before the reset: %v", err)
		}
		after, err := db.GetUser(ctx, mia.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bcrypt.CompareHashAndPassword([]byte(after.PasswordHash), []byte(temp)) != nil || !after.MustChangePassword ||
			after.SessionVersion != decided.SessionVersion+1 {
			t.Fatalf("the reset was undone: must change %v, session version %d (was %d)", after.MustChangePassword, after.SessionVersion, decided.SessionVersion)
		}
		// and with the version it holds now, her change goes through
		if _, err := s.ChangePassword(ctx, after, temp, "mia's newer password", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	})
}
