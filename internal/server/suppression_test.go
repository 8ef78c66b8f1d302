package server_test

import (
	"context"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// A suppression belongs to the normalised address (channel + value), not to
// the contact row it was set on: these tests hold the product to that.

// contactJSON is the suppression of a contact as the API shows it ("" when none).
func contactSuppression(t *testing.T, b map[string]any) string {
	t.Helper()
	s, ok := b["suppression"].(map[string]any)
	if !ok {
		if _, has := b["suppression"]; !has {
			t.Fatalf("no suppression key in %v", b)
		}
		return ""
	}
	return s["reason"].(string)
}

// customerContactSuppression reads a customer through the API and returns
// the suppression reason of its contact with this value.
func (e *env) customerContactSuppression(tok string, customer int64, value string) string {
	e.t.Helper()
	st, c := e.api("GET", fmt.Sprintf("/api/v1/customers/%d", customer), tok, "")
	if st != 200 {
		e.t.Fatalf("get customer %d: %d %v", customer, st, c)
	}
	for _, k := range c["contacts"].([]any) {
		k := k.(map[string]any)
		if k["value"] == value {
			return contactSuppression(e.t, k)
		}
	}
	e.t.Fatalf("customer %d has no contact %s: %v", customer, value, c["contacts"])
	return ""
}

// unsubscribeLinks returns the unsubscribe link of every mail received, with
// the address it was sent to.
func unsubscribeLinks(ms []received) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		if l := linkRe.FindStringSubmatch(m.header.Get("List-Unsubscribe")); l != nil {
			out[m.to] = append(out[m.to], l[1])
		}
	}
	return out
}

// remove takes a contact off through the API (204, no body).
func (e *env) remove(tok string, contact int64) int {
	e.t.Helper()
	req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/api/v1/contacts/%d", e.srv.URL, contact), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func postLink(t *testing.T, link string) int {
	t.Helper()
	res, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// legacyToken makes an unsubscribe token as mail sent before address tokens
// carried it: the contact id signed with the server's key.
func legacyToken(t *testing.T, db *store.DB, contactID int64) string {
	t.Helper()
	v, err := db.Setting(t.Context(), "unsubscribe_key", func() (string, error) { // no mail sent yet: the key the server will use
		b := make([]byte, 32)
		_, err := cryptorand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(v)
	id := binary.BigEndian.AppendUint64(nil, uint64(contactID))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("unsubscribe:"))
	mac.Write(id)
	return base64.RawURLEncoding.EncodeToString(append(id, mac.Sum(nil)[:16]...))
}

// An unsubscribe from customer A's mail suppresses the same address on
// customer B: B shows it, a manual send to B is refused, a segment send skips both.
func TestUnsubscribeSuppressesTheAddressEverywhere(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mails := e.withSMTP()
		u, tok := e.user("sales@example.com", crm.RoleMember)
		a, _ := e.customerWithEmail("Ana", "same@example.com")
		b, _ := e.customerWithEmail("Ana (duplicate)", "Same@Example.com ")
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", a), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 200 {
			t.Fatalf("send %d %v", st, r)
		}
		link := unsubscribeLinks(mails.received())["same@example.com"][0]
		if st := postLink(t, link); st != 200 {
			t.Fatalf("unsubscribe: %d", st)
		}
		if got := e.customerContactSuppression(tok, b, "same@example.com"); got != "unsubscribe" {
			t.Fatalf("B's contact shows suppression %q", got)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", b), tok, `{"channel":"email","subject":"Hi","body":"Hello B"}`); st != 409 {
			t.Fatalf("manual send to B: %d %v", st, r)
		}
		_, seg := e.api("POST", "/api/v1/segments", tok, `{"name":"Both"}`)
		segID := int64(seg["id"].(float64))
		if _, err := db.AddSegmentMembers(t.Context(), segID, []int64{a, b}, time.Now()); err != nil {
			t.Fatal(err)
		}
		r, err := e.out.SendToSegment(t.Context(), u, directSendJob(), segID, "News", "This month", nil)
		if err != nil || r.Sent != 0 || r.SkippedSuppressed != 2 {
			t.Fatalf("segment send: %+v %v", r, err)
		}
		if got := len(mails.received()); got != 1 {
			t.Fatalf("%d mails delivered, want only the first", got)
		}
	})
}

// Removing a suppressed contact and adding the address again, typing it into
// a new customer or importing it: each shows the suppression; one unsuppress
// with a note lifts it for every holder, and the history stays with the address.
func TestSuppressionFollowsTheAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		u, tok := e.user("sales@example.com", crm.RoleMember)
		a, k := e.customerWithEmail("Ana", "ana@example.com")
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", k), tok, `{"reason":"do_not_contact","note":"legal hold"}`); st != 200 {
			t.Fatalf("suppress %d %v", st, r)
		}
		if st := e.remove(tok, k); st != 204 {
			t.Fatalf("remove %d", st)
		}
		// an import brings the address, now on no live contact, on a new customer
		imp := importer.New(db, t.TempDir(), nil)
		path := filepath.Join(t.TempDir(), "ana.csv")
		os.WriteFile(path, []byte("first_name,last_name,email\nAnna,Imported,Ana@Example.com\n"), 0o600)
		if err := runImport(t.Context(), imp, u, path, importer.ModeCreate); err != nil {
			t.Fatal(err)
		}
		st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", a), tok, `{"channel":"email","value":" ANA@example.com"}`)
		if st != 200 && st != 201 || contactSuppression(t, r) != "do_not_contact" {
			t.Fatalf("re-added: %d %v", st, r)
		}
		st, r = e.api("POST", "/api/v1/customers", tok, `{"full_name":"Ana Again","contact":{"channel":"email","value":"ana@EXAMPLE.com"}}`)
		if st != 201 {
			t.Fatalf("new customer %d %v", st, r)
		}
		fresh := int64(r["id"].(float64))
		if got := e.customerContactSuppression(tok, fresh, "ana@example.com"); got != "do_not_contact" {
			t.Fatalf("new customer's contact shows %q", got)
		}
		holders, err := db.FindContactsByValue(t.Context(), crm.ChannelEmail, "ana@example.com")
		if err != nil || len(holders) != 3 {
			t.Fatalf("holders %v %v", holders, err)
		}
		for _, h := range holders {
			if h.Suppression == nil || h.Suppression.Reason != crm.ReasonDoNotContact || h.Suppression.Note != "legal hold" || h.Suppression.By == nil {
				t.Fatalf("contact %d of customer %d: %+v", h.ID, h.CustomerID, h.Suppression)
			}
		}
		// unsuppress on the imported one lifts it for all three
		imported := holders[0]
		if c, _ := db.GetCustomer(t.Context(), imported.CustomerID); c.FullName != "Anna Imported" {
			t.Fatalf("the first holder is %+v", c)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/unsuppress", imported.ID), tok, `{"note":"re-subscribed in writing"}`); st != 200 || contactSuppression(t, r) != "" {
			t.Fatalf("unsuppress %d %v", st, r)
		}
		holders, _ = db.FindContactsByValue(t.Context(), crm.ChannelEmail, "ana@example.com")
		for _, h := range holders {
			if h.Suppression != nil {
				t.Fatalf("still suppressed on customer %d: %+v", h.CustomerID, h.Suppression)
			}
		}
		// the history is the address's: any holder shows both events
		st, hist := e.api("GET", fmt.Sprintf("/api/v1/contacts/%d/suppressions", holders[0].ID), tok, "")
		items, _ := hist["items"].([]any)
		if st != 200 || len(items) != 2 || items[0].(map[string]any)["action"] != "suppress" || items[1].(map[string]any)["action"] != "unsuppress" {
			t.Fatalf("history %d %v", st, hist)
		}
		// and a send to the fresh customer now goes out (outbox: no SMTP here)
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", fresh), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 200 {
			t.Fatalf("send after unsuppress %d %v", st, r)
		}
	})
}

// An unsubscribe link names the address it was sent to: after the contact's
// address is edited, the old link suppresses the old address, never the new one.
// A link from before address tokens (a contact id) still suppresses that
// contact's address.
func TestUnsubscribeLinkNamesItsAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mails := e.withSMTP()
		_, tok := e.user("sales@example.com", crm.RoleMember)
		a, k := e.customerWithEmail("Ana", "old@example.com")
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", a), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 200 {
			t.Fatalf("send %d %v", st, r)
		}
		link := unsubscribeLinks(mails.received())["old@example.com"][0]
		if st, r := e.api("PATCH", fmt.Sprintf("/api/v1/contacts/%d", k), tok, `{"value":"new@example.com"}`); st != 200 {
			t.Fatalf("edit %d %v", st, r)
		}
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(page), "old@example.com") || strings.Contains(string(page), "new@example.com") {
			t.Fatalf("the confirmation page names the wrong address: %s", page)
		}
		if st := postLink(t, link); st != 200 {
			t.Fatalf("unsubscribe %d", st)
		}
		if got := e.customerContactSuppression(tok, a, "new@example.com"); got != "" {
			t.Fatalf("the old link suppressed the new address: %q", got)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", a), tok, `{"channel":"email","subject":"Hi","body":"Hello new"}`); st != 200 {
			t.Fatalf("send to the new address %d %v", st, r)
		}
		// the old address is suppressed wherever it turns up
		b, _ := e.customerWithEmail("Someone", "old@example.com")
		if got := e.customerContactSuppression(tok, b, "old@example.com"); got != "unsubscribe" {
			t.Fatalf("old address on a new customer shows %q", got)
		}

		// a link from older mail names a contact id: it suppresses that contact's address
		c, kc := e.customerWithEmail("Cy", "cy@example.com")
		d, _ := e.customerWithEmail("Cy twin", "cy@example.com")
		if st := postLink(t, e.srv.URL+"/u/"+legacyToken(t, db, kc)); st != 200 {
			t.Fatalf("legacy link %d", st)
		}
		for _, id := range []int64{c, d} {
			if got := e.customerContactSuppression(tok, id, "cy@example.com"); got != "unsubscribe" {
				t.Fatalf("legacy link: customer %d shows %q", id, got)
			}
		}
	})
}

// runImport imports a file with the importer service, as the job does.
func runImport(ctx context.Context, s *importer.Service, u *crm.User, path, mode string) error {
	j, _, err := s.Register(ctx, u, filepath.Base(path), path, 0)
	if err != nil {
		return err
	}
	if _, err := s.SetMapping(ctx, u, j.ID, nil, mode); err != nil {
		return err
	}
	if _, err := s.Submit(ctx, u, j.ID); err != nil {
		return err
	}
	return s.Run(ctx, j.ID, nil)
}

// TestSuppressionPropertyByAddress: for random sequences of adding, editing,
// removing and re-adding contacts, new customers, imports, merges, every way
// to suppress (the service with each reason, unsubscribe links new and old,
// bounces and complaints), unsuppress, and manual and segment sends, no
// message is ever delivered to a suppressed address (a real SMTP server
// receives them), and every live contact shows exactly the suppression of its
// address in a model kept beside.
//
// The seeds share one database per engine; each works on customers and
// addresses of its own (names start "S<seed> ", addresses end "-<seed>@example.com").
func TestSuppressionPropertyByAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { suppressionProperty(t, db, seed, 200) })
		}
	})
}

func suppressionProperty(t *testing.T, db *store.DB, seed uint64, steps int) {
	e := newEnv(t, db)
	mails := e.withSMTP()
	ctx := t.Context()
	u, tok := e.user(fmt.Sprintf("sales%d@example.com", seed), crm.RoleAdmin)
	_, seg := e.api("POST", "/api/v1/segments", tok, fmt.Sprintf(`{"name":"All %d"}`, seed))
	segID := int64(seg["id"].(float64))
	imp := importer.New(db, t.TempDir(), nil)
	rng := rand.New(rand.NewPCG(seed, 16))

	pool := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	addr := func() (typed, norm string) { // a pool address as someone might type it
		n := pool[rng.IntN(len(pool))] + fmt.Sprintf("-%d@example.com", seed)
		typed = n
		if rng.IntN(3) == 0 {
			typed = " " + strings.ToUpper(n[:1]) + n[1:] + " "
		}
		return typed, n
	}
	suppressed := map[string]bool{}
	reasons := []string{"unsubscribe", "bounce", "complaint", "manual", "do_not_contact"}

	type live struct {
		id, customer int64
		value        string
	}
	liveContacts := func() []live {
		rows, err := db.SQL.QueryContext(ctx, `SELECT k.id, k.customer_id, k.value FROM contacts k JOIN customers c ON c.id = k.customer_id
			WHERE k.removed_at IS NULL AND c.merged_into IS NULL AND k.channel = 'email' AND k.value LIKE $1 ORDER BY k.id`, fmt.Sprintf("%%-%d@example.com", seed))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []live
		for rows.Next() {
			var l live
			if err := rows.Scan(&l.id, &l.customer, &l.value); err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		return out
	}
	var removed []live // contacts taken off, for old links that name them
	activeCustomers := func() []int64 {
		rows, err := db.SQL.QueryContext(ctx, `SELECT id FROM customers WHERE archived_at IS NULL AND full_name LIKE $1 ORDER BY id`, fmt.Sprintf("S%d %%", seed))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	newCustomer := func(step int) {
		typed, norm := addr()
		st, r := e.api("POST", "/api/v1/customers", tok, fmt.Sprintf(`{"full_name":"S%d Person %d","contact":{"channel":"email","value":%q}}`, seed, step, typed))
		if st != 201 {
			t.Fatalf("step %d: new customer %d %v", step, st, r)
		}
		id := int64(r["id"].(float64))
		if _, err := db.AddSegmentMembers(ctx, segID, []int64{id}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := e.customerContactSuppression(tok, id, norm) != ""; got != suppressed[norm] {
			t.Fatalf("step %d: new customer with %s shows suppressed=%v, model %v", step, norm, got, suppressed[norm])
		}
	}
	for i := range 4 {
		newCustomer(-i)
	}

	seen, sends, delivered, refused := 0, 0, 0, 0
	checkMail := func(step int, op string) {
		got := mails.received()
		for _, m := range got[seen:] {
			if suppressed[m.to] {
				t.Fatalf("seed %d step %d (%s): mail delivered to suppressed %s", seed, step, op, m.to)
			}
		}
		delivered += len(got) - seen
		seen = len(got)
	}
	checkModel := func(step int, op string) { // every live contact, as the drawer and the API read it
		cs, err := db.GetCustomers(ctx, activeCustomers())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			for _, k := range c.Contacts {
				if (k.Suppression != nil) != suppressed[k.Value] {
					t.Fatalf("seed %d step %d (%s): contact %d of customer %d (%s) shows %+v, model suppressed=%v",
						seed, step, op, k.ID, k.CustomerID, k.Value, k.Suppression, suppressed[k.Value])
				}
			}
		}
	}
	pickLive := func() (live, bool) {
		ls := liveContacts()
		if len(ls) == 0 {
			return live{}, false
		}
		return ls[rng.IntN(len(ls))], true
	}

	for step := range steps {
		ops := []string{"add", "add", "edit", "remove", "new", "import", "merge", "suppress", "link", "legacy", "webhook",
			"unsuppress", "unsuppress", "unsuppress", "unsuppress", "manual", "manual", "manual", "segment"}
		op := ops[rng.IntN(len(ops))]
		switch op {
		case "add": // also a re-add of a removed address
			cs := activeCustomers()
			c := cs[rng.IntN(len(cs))]
			typed, norm := addr()
			st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", c), tok, fmt.Sprintf(`{"channel":"email","value":%q}`, typed))
			switch st {
			case 200, 201:
				if got := contactSuppression(t, r) != ""; got != suppressed[norm] {
					t.Fatalf("step %d: added %s shows suppressed=%v, model %v", step, norm, got, suppressed[norm])
				}
			case 400: // the customer already has it
			default:
				t.Fatalf("step %d: add contact %d %v", step, st, r)
			}
		case "edit":
			k, ok := pickLive()
			if !ok {
				continue
			}
			typed, _ := addr()
			if st, r := e.api("PATCH", fmt.Sprintf("/api/v1/contacts/%d", k.id), tok, fmt.Sprintf(`{"value":%q}`, typed)); st != 200 && st != 400 {
				t.Fatalf("step %d: edit %d %v", step, st, r)
			}
		case "remove":
			k, ok := pickLive()
			if !ok {
				continue
			}
			if st := e.remove(tok, k.id); st != 204 {
				t.Fatalf("step %d: remove %d", step, st)
			}
			removed = append(removed, k)
		case "new":
			newCustomer(step)
		case "import":
			var b strings.Builder
			fmt.Fprintf(&b, "first_name,last_name,email,segment_id\n")
			for i := range 1 + rng.IntN(3) {
				typed, _ := addr()
				fmt.Fprintf(&b, "S%d,Imp%d-%d,%s,%d\n", seed, step, i, strings.TrimSpace(typed), segID)
			}
			path := filepath.Join(t.TempDir(), "rows.csv")
			if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			mode := []string{importer.ModeCreate, importer.ModeUpsert}[rng.IntN(2)]
			if err := runImport(ctx, imp, u, path, mode); err != nil {
				t.Fatalf("step %d: import: %v", step, err)
			}
		case "merge":
			cs := activeCustomers()
			if len(cs) < 3 {
				continue
			}
			i, j := rng.IntN(len(cs)), rng.IntN(len(cs))
			if i == j {
				continue
			}
			if st, r := e.api("POST", "/api/v1/customers/merge", tok, fmt.Sprintf(`{"primary_id":%d,"secondary_ids":[%d],"confirm":true}`, cs[i], cs[j])); st != 200 {
				t.Fatalf("step %d: merge %d %v", step, st, r)
			}
		case "suppress":
			k, ok := pickLive()
			if !ok {
				continue
			}
			reason := reasons[rng.IntN(len(reasons))]
			if st, r := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", k.id), tok, fmt.Sprintf(`{"reason":%q,"note":"step %d"}`, reason, step)); st != 200 || contactSuppression(t, r) != reason && !suppressed[k.value] {
				t.Fatalf("step %d: suppress %d %v", step, st, r)
			}
			suppressed[k.value] = true
		case "link": // a link from any mail received so far
			links := unsubscribeLinks(mails.received())
			if len(links) == 0 {
				continue
			}
			var tos []string
			for to := range links {
				tos = append(tos, to)
			}
			slices.Sort(tos)
			to := tos[rng.IntN(len(tos))]
			l := links[to][rng.IntN(len(links[to]))]
			if st := postLink(t, l); st != 200 {
				t.Fatalf("step %d: unsubscribe link for %s: %d", step, to, st)
			}
			suppressed[to] = true
		case "legacy": // a contact-id link from older mail: that contact's address (live or removed)
			cands := append(liveContacts(), removed...)
			if len(cands) == 0 {
				continue
			}
			k := cands[rng.IntN(len(cands))]
			var value string
			if err := db.SQL.QueryRowContext(ctx, `SELECT value FROM contacts WHERE id = $1`, k.id).Scan(&value); err != nil {
				t.Fatal(err)
			}
			if st := postLink(t, e.srv.URL+"/u/"+legacyToken(t, db, k.id)); st != 200 {
				t.Fatalf("step %d: legacy link for contact %d: %d", step, k.id, st)
			}
			suppressed[value] = true
		case "webhook":
			typed, norm := addr()
			kind := []string{"bounce", "complaint"}[rng.IntN(2)]
			if st, r := e.api("POST", "/api/v1/webhooks/email-events", webhookToken, fmt.Sprintf(`{"email":%q,"type":%q}`, typed, kind)); st != 200 {
				t.Fatalf("step %d: webhook %d %v", step, st, r)
			}
			suppressed[norm] = true
		case "unsuppress":
			k, ok := pickLive()
			if !ok {
				continue
			}
			st, r := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/unsuppress", k.id), tok, `{"note":"re-subscribed in writing"}`)
			switch {
			case st == 200 && suppressed[k.value]:
				suppressed[k.value] = false
			case st == 409 && !suppressed[k.value]:
			default:
				t.Fatalf("step %d: unsuppress %s (model %v): %d %v", step, k.value, suppressed[k.value], st, r)
			}
		case "manual":
			cs := activeCustomers()
			c := cs[rng.IntN(len(cs))]
			_, got := e.api("GET", fmt.Sprintf("/api/v1/customers/%d", c), tok, "")
			primary, _ := got["primary_email"].(string)
			st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", c), tok, `{"channel":"email","subject":"s","body":"b"}`)
			switch {
			case primary == "":
				if st != 400 {
					t.Fatalf("step %d: send without e-mail %d %v", step, st, r)
				}
			case suppressed[primary]:
				if st != 409 {
					t.Fatalf("step %d: manual send to suppressed %s answered %d %v", step, primary, st, r)
				}
				refused++
			default:
				if st != 200 || r["status"] != "sent" {
					t.Fatalf("step %d: manual send to %s: %d %v", step, primary, st, r)
				}
				sends++
			}
		case "segment":
			r, err := e.out.SendToSegment(ctx, u, directSendJob(), segID, "s", "b", nil)
			if err != nil {
				t.Fatalf("step %d: segment send %v", step, err)
			}
			sends += r.Sent + r.Outbox
			refused += r.SkippedSuppressed
		}
		checkMail(step, op)
		checkModel(step, op)
	}
	if sends == 0 || refused == 0 || delivered != sends {
		t.Fatalf("seed %d: %d sends answered sent, %d mails delivered, %d refused or skipped", seed, sends, delivered, refused)
	}
	t.Logf("seed %d: %d mails delivered, %d refused or skipped, %d addresses suppressed at the end", seed, delivered, refused, countTrue(suppressed))
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// directSend counts segment sends run outside River: each needs a job id of
// its own for its delivery ledger, far above any id River hands out here.
var directSend atomic.Int64

func directSendJob() int64 { return 1<<40 + directSend.Add(1) }
