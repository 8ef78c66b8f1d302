package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
)

// SearchTags checks the tag picker's search: a prefix of the name in any
// case, in byte order of the folded names on every engine (and whatever the
// database's collation: the PostgreSQL package runs it on an ICU one too), at
// most limit, pages after a name, counts of the tags returned; LIKE's
// wildcards are plain characters and a name may hold any character.
func SearchTags(t *testing.T, s crm.Store) {
	names := []string{"VIP", "vip-gold", "Vipers", "vo", "50%_off", "50 percent", "5000", "a_b", "axb",
		"apple", "Zebra", "äpfel", "Äther", "z\U0010FFFF", "z\U0010FFFFa", "{x"}
	tags, err := s.EnsureTags(ctx, names, t0)
	must(t, err)
	id := map[string]int64{}
	for _, tg := range tags {
		id[tg.Name] = tg.ID
	}
	for i, n := range []string{"VIP", "VIP", "vip-gold"} {
		c := newCustomer(t, s, "Tagged "+n, t0)
		if i == 0 {
			_, err = s.AddCustomerTags(ctx, c, []int64{id["vip-gold"]}, t0)
			must(t, err)
		}
		_, err := s.AddCustomerTags(ctx, c, []int64{id[n]}, t0)
		must(t, err)
	}

	search := func(prefix, after string, limit int) string {
		t.Helper()
		got, err := s.SearchTags(ctx, prefix, after, limit)
		must(t, err)
		var out []string
		for _, tg := range got {
			out = append(out, tg.Name)
			if tg.ID != id[tg.Name] || !tg.CreatedAt.Equal(t0) {
				t.Fatalf("tag %+v, want id %d created %v", tg, id[tg.Name], t0)
			}
		}
		return strings.Join(out, "|")
	}
	all := slices.Clone(names)
	slices.SortFunc(all, func(a, b string) int { return strings.Compare(crm.NameKey(a), crm.NameKey(b)) })
	for _, c := range []struct {
		prefix, after string
		limit         int
		want          string
	}{
		{"", "", 100, strings.Join(all, "|")}, // byte order: "äpfel" after "zebra" everywhere
		{"vip", "", 20, "VIP|vip-gold|Vipers"},
		{"VIP", "", 20, "VIP|vip-gold|Vipers"},
		{"Vip", "", 2, "VIP|vip-gold"},
		{"vip", "vip-gold", 2, "Vipers"},
		{"vip", "VIPERS", 2, ""},
		{"", "vo", 3, "Zebra|z\U0010FFFF|z\U0010FFFFa"},
		{"v", "a", 20, "VIP|vip-gold|Vipers|vo"}, // after, before the prefix: from the prefix
		{"50%", "", 20, "50%_off"},
		{"50", "", 20, "50 percent|50%_off|5000"},
		{"a_", "", 20, "a_b"},
		{"ä", "", 20, "äpfel|Äther"},
		{"ÄP", "", 20, "äpfel"},
		{"z\U0010FFFF", "", 20, "z\U0010FFFF|z\U0010FFFFa"},
		{"nothing", "", 20, ""},
		{"\xff", "", 20, ""},
	} {
		if got := search(c.prefix, c.after, c.limit); got != c.want {
			t.Errorf("SearchTags(%q, %q, %d) = %q, want %q", c.prefix, c.after, c.limit, got, c.want)
		}
	}
	got, err := s.SearchTags(ctx, "vi", "", 10)
	must(t, err)
	counts := map[string]int{}
	for _, tg := range got {
		counts[tg.Name] = tg.Customers
	}
	if counts["VIP"] != 2 || counts["vip-gold"] != 2 || counts["Vipers"] != 0 {
		t.Fatalf("customer counts %v", counts)
	}
}
