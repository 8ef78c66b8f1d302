package customers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// mkUser adds a user for race tests.
func mkUser(t *testing.T, db *store.DB, email string, role crm.Role) *crm.User {
	t.Helper()
	u := &crm.User{Email: email, Name: "Name of " + email, Role: role, Active: true, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// together runs every fn at once (released by one signal) and waits for all.
func together(fns ...func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, fn := range fns {
		wg.Go(func() {
			<-start
			fn()
		})
	}
	close(start)
	wg.Wait()
}

type mergeReq struct {
	primary int64
	secs    []int64
}

// TestConcurrentMergesAreSerialised sends conflicting merges at the same
// moment, many rounds of each shape: whatever the interleaving, the result is
// that of the merges one after the other, so exactly one of two conflicting
// merges succeeds, the other is told why with a conflict, and every customer
// ends active or archived and merged once into an active customer.
func TestConcurrentMergesAreSerialised(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		shapes := []struct {
			name string
			reqs func(a, b, c int64) [2]mergeReq
			// serialOK says whether both succeeding is a serial outcome
			// given which one committed first (chain: B<-C then A<-B).
			bothOK bool
		}{
			{"swapped pair", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{b}}, {b, []int64{a}}} }, false},
			{"shared secondary", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{c}}, {b, []int64{c}}} }, false},
			{"chain", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{b}}, {b, []int64{c}}} }, true},
			{"double click", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{b, c}}, {a, []int64{b, c}}} }, false},
		}
		const rounds = 20
		for _, shape := range shapes {
			t.Run(shape.name, func(t *testing.T) {
				for round := range rounds {
					var ids [3]int64
					for i := range ids {
						c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("R%d-%c", round, 'A'+i),
							Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("r%d-%d@example.com", round, i)}})
						if err != nil {
							t.Fatal(err)
						}
						if _, err := svc.AddNote(ctx, admin, c.ID, "note"); err != nil {
							t.Fatal(err)
						}
						ids[i] = c.ID
					}
					reqs := shape.reqs(ids[0], ids[1], ids[2])
					var errs [2]error
					together(
						func() { _, _, errs[0] = svc.Merge(ctx, admin, reqs[0].primary, reqs[0].secs, true) },
						func() { _, _, errs[1] = svc.Merge(ctx, admin, reqs[1].primary, reqs[1].secs, true) },
					)
					ok := 0
					for i, err := range errs {
						switch {
						case err == nil:
							ok++
						case crm.CodeOf(err) != crm.CodeConflict:
							t.Fatalf("round %d: merge %d failed with %v, want a conflict", round, i, err)
						}
					}
					if ok == 0 || ok == 2 && !shape.bothOK {
						t.Fatalf("round %d: %d merges succeeded (%v)", round, ok, errs)
					}
					checkMerged(t, db, ids[:], ok)
				}
			})
		}
	})
}

// checkMerged checks that each customer is active or archived and merged
// once into an active customer, that live contacts and notes are all on
// active customers, and that there are as many merged_from entries as merges.
func checkMerged(t *testing.T, db *store.DB, ids []int64, merges int) {
	t.Helper()
	mergedFrom := 0
	for _, id := range ids {
		c, err := db.GetCustomer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		acts, err := db.ListActivity(ctx, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		into := 0
		for _, a := range acts {
			switch a.Kind {
			case crm.ActMergedFrom:
				mergedFrom++
			case crm.ActMergedInto:
				into++
			}
		}
		notes, _ := db.ListNotes(ctx, id)
		switch {
		case c.ArchivedAt == nil && c.MergedInto == nil:
			if into != 0 {
				t.Fatalf("%s is active but its log says it was merged %d times", c.FullName, into)
			}
		case c.ArchivedAt != nil && c.MergedInto != nil:
			to, err := db.GetCustomer(ctx, *c.MergedInto)
			if err != nil {
				t.Fatal(err)
			}
			if to.ArchivedAt != nil || to.MergedInto != nil {
				t.Fatalf("%s was merged into %s, which is not active (archived %v, merged %v)", c.FullName, to.FullName, to.ArchivedAt != nil, to.MergedInto != nil)
			}
			if into != 1 {
				t.Fatalf("%s has %d merged_into entries", c.FullName, into)
			}
			if len(c.Contacts) != 0 || len(notes) != 0 {
				t.Fatalf("%s was merged but keeps %d contacts and %d notes", c.FullName, len(c.Contacts), len(notes))
			}
		default:
			t.Fatalf("%s: archived %v, merged into %v", c.FullName, c.ArchivedAt, c.MergedInto)
		}
	}
	if mergedFrom != merges {
		t.Fatalf("%d merges succeeded, %d merged_from entries", merges, mergedFrom)
	}
}

// TestBulkClaimNeverOverwritesSingleClaims runs a bulk claim of unclaimed
// customers while other members claim some of them one by one: a single
// claim that answered success is never overwritten, each customer's log
// tells its owners in order, and done plus skipped is what was processed.
func TestBulkClaimNeverOverwritesSingleClaims(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		bulker := mkUser(t, db, "bulk@example.com", crm.RoleMember)
		members := []*crm.User{mkUser(t, db, "m1@example.com", crm.RoleMember), mkUser(t, db, "m2@example.com", crm.RoleMember),
			mkUser(t, db, "m3@example.com", crm.RoleMember)}
		const rounds, n = 20, 30
		for round := range rounds {
			ids := make([]int64, n)
			for i := range ids {
				id, err := db.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("R%d-%d", round, i), CreatedAt: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = id
			}
			var mu sync.Mutex
			won := map[int64]int64{} // customer -> the member whose single claim answered success
			var res *customers.BulkResult
			var bulkErr error
			fns := []func(){func() {
				res, bulkErr = svc.Bulk(ctx, bulker, customers.BulkRequest{Action: customers.BulkClaim, IDs: ids}, nil)
			}}
			for _, m := range members {
				order := rand.Perm(n)[:n/3]
				fns = append(fns, func() {
					for _, i := range order {
						_, err := svc.Claim(ctx, m, ids[i])
						mu.Lock()
						if err == nil {
							if prev, ok := won[ids[i]]; ok {
								t.Errorf("customer %d claimed by both %d and %d", ids[i], prev, m.ID)
							}
							won[ids[i]] = m.ID
						} else if crm.CodeOf(err) != crm.CodeConflict {
							t.Errorf("claim: %v", err)
						}
						mu.Unlock()
					}
				})
			}
			together(fns...)
			if bulkErr != nil {
				t.Fatal(bulkErr)
			}
			if res.Processed != n || res.Done+res.Skipped != res.Processed || len(res.Skips) != res.Skipped {
				t.Fatalf("round %d: processed %d, done %d, skipped %d (%d skips)", round, res.Processed, res.Done, res.Skipped, len(res.Skips))
			}
			states, err := db.CustomerStates(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			bulkOwned := 0
			for _, id := range ids {
				owner := states[id].Owner
				if owner == nil {
					t.Fatalf("round %d: customer %d has no owner", round, id)
				}
				if m, ok := won[id]; ok && owner.ID != m {
					t.Fatalf("round %d: %d's claim of customer %d answered success, but it belongs to %s", round, m, id, owner.Name)
				}
				if owner.ID == bulker.ID {
					bulkOwned++
				}
				checkOwnerLog(t, db, id, owner)
			}
			if bulkOwned != res.Done {
				t.Fatalf("round %d: the bulk claim says done %d, it owns %d", round, res.Done, bulkOwned)
			}
		}
	})
}

// checkOwnerLog checks that a customer's owner changes, oldest first, each
// start from the owner the one before left, and end at its owner.
func checkOwnerLog(t *testing.T, db *store.DB, id int64, current *crm.UserRef) {
	t.Helper()
	acts, err := db.ListActivity(ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var owner int64 // 0 = nobody
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Kind != crm.ActOwnerChanged {
			continue
		}
		var d struct{ From, To *crm.UserRef }
		if err := json.Unmarshal(acts[i].Data, &d); err != nil {
			t.Fatal(err)
		}
		var from, to int64
		if d.From != nil {
			from = d.From.ID
		}
		if d.To != nil {
			to = d.To.ID
		}
		if from != owner {
			t.Fatalf("customer %d: the log says an owner change from %d, but it was owned by %d", id, from, owner)
		}
		owner = to
	}
	var now int64
	if current != nil {
		now = current.ID
	}
	if owner != now {
		t.Fatalf("customer %d: the log ends at owner %d, it is owned by %d", id, owner, now)
	}
}

// TestArchiveAndClaimDuringMerge archives and claims a customer while it is
// merged into another: the outcome is one of the serial ones. Of the merge
// and the archive exactly one succeeds (an archive never takes a merged
// customer's merged_into away, which would let it be restored emptied), and
// a claim that succeeds came before both.
func TestArchiveAndClaimDuringMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		mia := mkUser(t, db, "mia@example.com", crm.RoleMember)
		for round := range 20 {
			var ids [2]int64
			for i := range ids {
				c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("R%d-%c", round, 'A'+i),
					Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("r%d-%d@example.com", round, i)}})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = c.ID
			}
			a, b := ids[0], ids[1]
			var mergeErr, archiveErr, claimErr error
			together(
				func() { _, _, mergeErr = svc.Merge(ctx, admin, a, []int64{b}, true) },
				func() { _, archiveErr = svc.Archive(ctx, admin, b) },
				func() { _, claimErr = svc.Claim(ctx, mia, b) },
			)
			for what, err := range map[string]error{"merge": mergeErr, "archive": archiveErr, "claim": claimErr} {
				if err != nil && crm.CodeOf(err) != crm.CodeConflict {
					t.Fatalf("round %d: %s failed with %v, want a conflict", round, what, err)
				}
			}
			if (mergeErr == nil) == (archiveErr == nil) {
				t.Fatalf("round %d: merge %v, archive %v: exactly one must succeed", round, mergeErr, archiveErr)
			}
			c, err := db.GetCustomer(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if c.ArchivedAt == nil || (c.MergedInto != nil) != (mergeErr == nil) {
				t.Fatalf("round %d: merge %v, archive %v, but B is archived %v, merged into %v", round, mergeErr, archiveErr, c.ArchivedAt != nil, c.MergedInto)
			}
			if mergeErr == nil {
				checkMerged(t, db, ids[:], 1)
			}
			// the log, oldest first: an owner change only before the end
			acts, _ := db.ListActivity(ctx, b, 0, 100)
			ended := false
			for i := len(acts) - 1; i >= 0; i-- {
				switch acts[i].Kind {
				case crm.ActArchived, crm.ActMergedInto:
					ended = true
				case crm.ActOwnerChanged:
					if ended {
						t.Fatalf("round %d: B was claimed after it was archived or merged (claim %v)", round, claimErr)
					}
				}
			}
			if (claimErr == nil) != (c.Owner != nil) {
				t.Fatalf("round %d: claim %v, owner %v", round, claimErr, c.Owner)
			}
		}
	})
}

// slippedClaim is a store on which another member's claim of victim
// commits between a bulk chunk's decision and its write (what READ
// COMMITTED allows where nothing is locked).
type slippedClaim struct {
	crm.Store
	victim, by int64
}

func (s slippedClaim) InTx(ctx context.Context, fn func(tx crm.Store) error) error {
	return s.Store.InTx(ctx, func(tx crm.Store) error { return fn(slippedClaim{tx, s.victim, s.by}) })
}

func (s slippedClaim) BulkSetOwner(ctx context.Context, ids []int64, owner *int64, expect crm.OwnerExpectation, now time.Time) ([]int64, error) {
	if _, err := s.Store.SetOwner(ctx, s.victim, &s.by, crm.OwnerExpectation{}, now); err != nil {
		return nil, err
	}
	return s.Store.BulkSetOwner(ctx, ids, owner, expect, now)
}

// A customer claimed by someone else between a bulk claim's decision and
// its write is skipped, saying so, and its log has no bulk entry.
func TestBulkClaimSkipsWhatChangedMeanwhile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		bulker := mkUser(t, db, "bulk@example.com", crm.RoleMember)
		mia := mkUser(t, db, "mia@example.com", crm.RoleMember)
		var ids []int64
		for i := range 3 {
			id, err := db.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("C%d", i), CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		svc := customers.New(slippedClaim{db, ids[1], mia.ID})
		res, err := svc.Bulk(ctx, bulker, customers.BulkRequest{Action: customers.BulkClaim, IDs: ids}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Processed != 3 || res.Done != 2 || res.Skipped != 1 || len(res.Skips) != 1 || res.Skips[0].ID != ids[1] ||
			res.Skips[0].Reason != "claimed by Name of mia@example.com meanwhile" {
			t.Fatalf("result %+v", res)
		}
		c, _ := db.GetCustomer(ctx, ids[1])
		if c.Owner == nil || c.Owner.ID != mia.ID {
			t.Fatalf("the claim that slipped in was overwritten: owner %v", c.Owner)
		}
		if acts, _ := db.ListActivity(ctx, ids[1], 0, 10); len(acts) != 0 {
			t.Fatalf("the bulk claim logged a change it did not make: %+v", acts)
		}
	})
}
