package storetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// DuplicatePairs checks the possible-duplicates listing against a brute
// force over every two customers of a seeded set: one entry per pair of
// active customers sharing a live e-mail, phone or LinkedIn value (other
// channels, removed contacts and archived customers do not count), every
// shared value as a reason, in pair order, paged by the pair with any page
// size, across the store's ranges of customer ids (the set spans several);
// a pair marked as not duplicates never shows again, whichever way round it
// is named, and a second mark keeps the first.
func DuplicatePairs(t *testing.T, s crm.Store) {
	r := rand.New(rand.NewPCG(16, 11))
	const n = 3000 // more than the first range of ids the store reads
	type contact struct {
		id      int64
		ch      crm.Channel
		value   string
		removed bool
	}
	ids := make([]int64, n)
	contacts := map[int64][]*contact{}
	archived := map[int64]bool{}
	channels := []crm.Channel{crm.ChannelEmail, crm.ChannelPhone, crm.ChannelLinkedIn, crm.ChannelWebsite}
	value := func(ch crm.Channel, k int) string {
		switch ch {
		case crm.ChannelEmail:
			return fmt.Sprintf("p%d@example.com", k)
		case crm.ChannelPhone:
			return fmt.Sprintf("+4930%07d", k)
		case crm.ChannelLinkedIn:
			return fmt.Sprintf("https://www.linkedin.com/in/p%d", k)
		}
		return fmt.Sprintf("https://p%d.example.com", k)
	}
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		for i := range ids {
			id, err := tx.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("Customer %d", i), CreatedAt: t0})
			if err != nil {
				return err
			}
			ids[i] = id
			// a few customers hold contacts, from small pools of values so
			// that many are shared, and some share several
			if r.IntN(12) != 0 {
				continue
			}
			for range 1 + r.IntN(4) {
				ch := channels[r.IntN(len(channels))]
				k := &contact{ch: ch, value: value(ch, r.IntN(40))}
				if slices.ContainsFunc(contacts[id], func(o *contact) bool { return o.ch == k.ch && o.value == k.value }) {
					continue
				}
				c := &crm.Contact{CustomerID: id, Channel: k.ch, Value: k.value}
				if err := tx.AddContact(ctx, c, t0); err != nil {
					return err
				}
				k.id = c.ID
				contacts[id] = append(contacts[id], k)
			}
		}
		for id, ks := range contacts {
			if r.IntN(8) == 0 {
				at := t0.Add(time.Hour)
				if err := tx.SetArchived(ctx, id, &at, nil, at); err != nil {
					return err
				}
				archived[id] = true
			}
			if k := ks[0]; r.IntN(6) == 0 {
				if err := tx.RemoveContact(ctx, k.id, t0); err != nil {
					return err
				}
				k.removed = true
			}
		}
		return nil
	}))

	// the brute force: every two customers, every two contacts
	notDup := map[crm.PairKey]bool{}
	want := func() []crm.DuplicatePair {
		var out []crm.DuplicatePair
		for i, a := range ids {
			for _, b := range ids[i+1:] {
				if archived[a] || archived[b] || notDup[crm.PairKey{A: a, B: b}] || len(contacts[a]) == 0 || len(contacts[b]) == 0 {
					continue
				}
				var reasons []crm.SharedContact
				for _, x := range contacts[a] {
					for _, y := range contacts[b] {
						if !x.removed && !y.removed && x.ch != crm.ChannelWebsite && x.ch == y.ch && x.value == y.value {
							reasons = append(reasons, crm.SharedContact{Channel: x.ch, Value: x.value})
						}
					}
				}
				if len(reasons) == 0 {
					continue
				}
				slices.SortFunc(reasons, func(p, q crm.SharedContact) int {
					return strings.Compare(string(p.Channel)+"\x00"+p.Value, string(q.Channel)+"\x00"+q.Value)
				})
				out = append(out, crm.DuplicatePair{A: crm.CustomerRef{ID: a, Name: name(ids, a)}, B: crm.CustomerRef{ID: b, Name: name(ids, b)}, Reasons: reasons})
			}
		}
		return out
	}
	list := func(limit int) []crm.DuplicatePair {
		t.Helper()
		var all []crm.DuplicatePair
		var after crm.PairKey
		for range 10000 {
			page, err := s.DuplicatePairs(ctx, after, limit)
			must(t, err)
			if len(page) > limit {
				t.Fatalf("a page of %d pairs for a limit of %d", len(page), limit)
			}
			all = append(all, page...)
			if len(page) < limit {
				return all
			}
			last := page[len(page)-1]
			after = crm.PairKey{A: last.A.ID, B: last.B.ID}
		}
		t.Fatal("the pages never end")
		return nil
	}
	check := func(when string) {
		t.Helper()
		w := want()
		if len(w) < 100 || w[len(w)-1].A.ID < ids[2500] {
			t.Fatalf("the seeded set has %d pairs, not spread over the ids: make it richer", len(w))
		}
		several := 0
		for _, p := range w {
			if len(p.Reasons) > 1 {
				several++
			}
		}
		if several == 0 {
			t.Fatal("no pair shares two values: make the seeded set richer")
		}
		for _, limit := range []int{3, 50, 200} {
			got := list(limit)
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("%s, pages of %d: %d pairs, want %d\n got %v\nwant %v", when, limit, len(got), len(w), head(got), head(w))
			}
		}
	}
	check("seeded")

	w := want()
	for i, p := range []crm.DuplicatePair{w[0], w[len(w)/2], w[len(w)-1]} {
		key := crm.PairKey{A: p.A.ID, B: p.B.ID}
		must(t, s.MarkNotDuplicate(ctx, key, 0, t0.Add(time.Duration(i)*time.Minute)))
		must(t, s.MarkNotDuplicate(ctx, key, 0, t0.Add(time.Hour))) // again: still one mark
		notDup[key] = true
	}
	check("after three marks")
}

func name(ids []int64, id int64) string {
	i, _ := slices.BinarySearch(ids, id)
	return fmt.Sprintf("Customer %d", i)
}

func head(ps []crm.DuplicatePair) []crm.DuplicatePair { return ps[:min(len(ps), 5)] }
