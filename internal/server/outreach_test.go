package server_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// smtpServer is a real SMTP server in the test process that keeps what it receives.
type smtpServer struct {
	mu   sync.Mutex
	msgs []received
	port int
}

type received struct {
	to     string
	header mail.Header
	body   string
}

func (s *smtpServer) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &smtpSession{s: s}, nil }

type smtpSession struct {
	s  *smtpServer
	to []string
}

func (x *smtpSession) Reset()                                 { x.to = nil }
func (x *smtpSession) Logout() error                          { return nil }
func (x *smtpSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *smtpSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, to := range x.to {
		x.s.msgs = append(x.s.msgs, received{to: to, header: m.Header, body: string(body)})
	}
	return nil
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// withSMTP starts an SMTP server and routes the env's mail to it.
func (e *env) withSMTP() *smtpServer {
	s := &smtpServer{}
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = srv.Close() })
	s.port = ln.Addr().(*net.TCPAddr).Port
	e.out.Mailer = outreach.SMTP{Host: "127.0.0.1", Port: s.port, Timeout: 5 * time.Second}
	return s
}

// customerWithEmail adds a customer with one e-mail address and returns its ids.
func (e *env) customerWithEmail(name, email string) (int64, int64) {
	e.t.Helper()
	id, err := e.db.CreateCustomer(e.t.Context(), crm.NewCustomer{FullName: name, CreatedAt: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	k := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: email}
	if err := e.db.AddContact(e.t.Context(), k, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	return id, k.ID
}

// waitJob polls a job until it ends and returns it.
func (e *env) waitJob(token string, id int64) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, j := e.api("GET", fmt.Sprintf("/api/v1/jobs/%d", id), token, "")
		if st != 200 {
			e.t.Fatalf("job %d: %d %v", id, st, j)
		}
		switch j["status"] {
		case "done", "failed", "canceled":
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("job %d did not end", id)
	return nil
}

func TestSendGate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mails := e.withSMTP()
		_, tok := e.user("sales@example.com", crm.RoleMember)
		ana, _ := e.customerWithEmail("Ana", "ana@example.com")
		bo, boEmail := e.customerWithEmail("Bo", "bo@example.com")
		cy, _ := e.customerWithEmail("Cy", "cy@example.com")
		noMail, _ := e.db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Phone Only", CreatedAt: time.Now()})

		// Bo is suppressed: a manual send is refused with the reason, nothing leaves.
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", boEmail), tok, `{"reason":"unsubscribe","note":"asked"}`); st != 200 {
			t.Fatalf("suppress %d %v", st, b)
		}
		st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", bo), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`)
		if st != 409 || !strings.Contains(fmt.Sprint(b), "suppressed (unsubscribe") {
			t.Fatalf("send to suppressed: %d %v", st, b)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", noMail), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 400 || !strings.Contains(fmt.Sprint(b), "no e-mail address") {
			t.Fatalf("send without e-mail: %d %v", st, b)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", ana), tok, `{"channel":"email","subject":"","body":""}`); st != 400 {
			t.Fatalf("empty send: %d %v", st, b)
		}

		// A manual send reaches the SMTP server with the unsubscribe headers.
		st, b = e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", ana), tok, `{"channel":"email","subject":"Grüße","body":"Hello Ana"}`)
		if st != 200 || b["status"] != "sent" {
			t.Fatalf("manual send: %d %v", st, b)
		}
		got := mails.received()
		if len(got) != 1 || got[0].to != "ana@example.com" || !strings.Contains(got[0].body, "Hello Ana") ||
			got[0].header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(got[0].header.Get("List-Unsubscribe"), "<"+e.srv.URL+"/u/") {
			t.Fatalf("received %+v", got)
		}

		// A segment send: a job that skips and counts the suppressed contact.
		_, seg := e.api("POST", "/api/v1/segments", tok, `{"name":"Newsletter"}`)
		segID := int64(seg["id"].(float64))
		if _, err := e.db.AddSegmentMembers(t.Context(), segID, []int64{ana, bo, cy, noMail}, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, b = e.api("POST", fmt.Sprintf("/api/v1/segments/%d/send", segID), tok, `{"subject":"News","body":"This month"}`)
		job, _ := b["job"].(map[string]any)
		if st != 202 || job["status"] != "queued" {
			t.Fatalf("segment send: %d %v", st, b)
		}
		j := e.waitJob(tok, int64(job["id"].(float64)))
		res, _ := j["result"].(map[string]any)
		if j["status"] != "done" || res["sent"] != 2.0 || res["skipped_suppressed"] != 1.0 || res["failed"] != 1.0 {
			t.Fatalf("job %v", j)
		}
		var to []string
		for _, m := range mails.received()[1:] {
			to = append(to, m.to)
		}
		slices.Sort(to)
		if fmt.Sprint(to) != "[ana@example.com cy@example.com]" {
			t.Fatalf("segment mail went to %v", to)
		}
		// the skip is stored as a message and an activity entry on Bo
		_, ms := e.api("GET", fmt.Sprintf("/api/v1/customers/%d/messages", bo), tok, "")
		if items := ms["items"].([]any); len(items) != 1 || items[0].(map[string]any)["status"] != "skipped_suppressed" {
			t.Fatalf("Bo's messages %v", ms)
		}
		// someone else's job is not shown
		_, other := e.user("other@example.com", crm.RoleMember)
		if st, _ := e.api("GET", fmt.Sprintf("/api/v1/jobs/%d", int64(job["id"].(float64))), other, ""); st != 404 {
			t.Fatalf("another member's job: %d", st)
		}
	})
}

var linkRe = regexp.MustCompile(`<(http[^>]+)>`)

func TestUnsubscribeLinkAndWebhook(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mails := e.withSMTP()
		_, tok := e.user("sales@example.com", crm.RoleMember)
		ana, anaEmail := e.customerWithEmail("Ana", "ana@example.com")
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", ana), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 200 {
			t.Fatalf("send %d %v", st, b)
		}
		link := linkRe.FindStringSubmatch(mails.received()[0].header.Get("List-Unsubscribe"))[1]

		// tampered and foreign tokens are refused and change nothing
		u, _ := url.Parse(link)
		tok0 := strings.TrimPrefix(u.Path, "/u/")
		tampered := tok0[:len(tok0)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok0, "AA")]
		foreignStore := testdb.Open(t, "sqlite")
		foreignStore.CreateUser(t.Context(), &crm.User{Email: "x@example.com", Name: "x", Role: crm.RoleAdmin, CreatedAt: time.Now()})
		foreign, _ := outreach.New(foreignStore, nil, "", "").UnsubscribeToken(t.Context(), &crm.Contact{ID: anaEmail, Channel: crm.ChannelEmail, Value: "ana@example.com"})
		for _, bad := range []string{tampered, foreign, "not-a-token"} {
			res, err := http.Post(e.srv.URL+"/u/"+bad, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 404 {
				t.Fatalf("bad token %q: %d", bad, res.StatusCode)
			}
		}
		if k, _ := db.GetContact(t.Context(), anaEmail); k.Suppression != nil {
			t.Fatal("a bad token suppressed the contact")
		}

		// the page asks first; the one-click POST (no form token, as mail clients send it) suppresses
		res, _ := http.Get(link)
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(page), "Stop all e-mails to <strong>ana@example.com</strong>?") {
			t.Fatalf("confirmation page %d %s", res.StatusCode, page)
		}
		res, _ = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		res.Body.Close()
		k, _ := db.GetContact(t.Context(), anaEmail)
		if res.StatusCode != 200 || k.Suppression == nil || k.Suppression.Reason != crm.ReasonUnsubscribe || k.Suppression.By != nil {
			t.Fatalf("after unsubscribe: %d %+v", res.StatusCode, k.Suppression)
		}
		if st, _ := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", ana), tok, `{"channel":"email","subject":"Hi","body":"Again"}`); st != 409 {
			t.Fatalf("send after unsubscribe: %d", st)
		}

		// the bounce webhook: its own token, idempotent
		bo, _ := e.customerWithEmail("Bo", "bo@example.com")
		_, _ = e.customerWithEmail("Bo's twin", "BO@example.com") // the same address on a second customer
		for _, bad := range []string{"", "wrong", tok} {
			if st, b := e.api("POST", "/api/v1/webhooks/email-events", bad, `{"email":"bo@example.com","type":"bounce"}`); st != 401 {
				t.Fatalf("webhook with token %q: %d %v", bad, st, b)
			}
		}
		st, b := e.api("POST", "/api/v1/webhooks/email-events", webhookToken, `{"email":" Bo@Example.com","type":"bounce"}`)
		if st != 200 || b["suppressed"] != 2.0 {
			t.Fatalf("bounce: %d %v", st, b)
		}
		if st, b := e.api("POST", "/api/v1/webhooks/email-events", webhookToken, `{"email":"bo@example.com","type":"bounce"}`); st != 200 || b["suppressed"] != 0.0 {
			t.Fatalf("repeated bounce: %d %v", st, b)
		}
		if hist, _ := db.ListSuppressionEvents(t.Context(), crm.ChannelEmail, "bo@example.com"); len(hist) != 1 || hist[0].Reason != crm.ReasonBounce {
			t.Fatalf("history after a repeated event: %+v", hist)
		}
		if st, _ := e.api("POST", "/api/v1/webhooks/email-events", webhookToken, `{"email":"bo@example.com","type":"spam"}`); st != 400 {
			t.Fatalf("unknown type: %d", st)
		}
		// an unknown reason and a missing note are refused, naming the field
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", anaEmail), tok, `{"reason":"because"}`); st != 400 || b["error"].(map[string]any)["field"] != "reason" {
			t.Fatalf("unknown reason: %d %v", st, b)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/unsuppress", anaEmail), tok, `{"note":"  "}`); st != 400 || b["error"].(map[string]any)["field"] != "note" {
			t.Fatalf("empty note: %d %v", st, b)
		}

		// inbound messages: matched by normalised value; an unknown sender is a clear 404
		st, b = e.api("POST", "/api/v1/messages", tok, `{"direction":"inbound","channel":"email","from":"BO@example.com ","subject":"Re: Hi","body":"Thanks"}`)
		if st != 201 || len(b["items"].([]any)) != 2 {
			t.Fatalf("inbound: %d %v", st, b)
		}
		c, _ := db.GetCustomer(t.Context(), bo)
		if !c.HasInbound {
			t.Fatal("inbound did not mark has_inbound")
		}
		if st, b := e.api("POST", "/api/v1/messages", tok, `{"direction":"inbound","channel":"email","from":"stranger@example.com","body":"?"}`); st != 404 || !strings.Contains(fmt.Sprint(b), "No customer has the email stranger@example.com") {
			t.Fatalf("unknown sender: %d %v", st, b)
		}
	})
}

// TestSuppressionNeverLeaks: random sequences of suppress, unsuppress,
// complaints, merges, manual and segment sends never deliver to a contact
// that is suppressed when the send happens.
func TestSuppressionNeverLeaks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mails := e.withSMTP()
		_, tok := e.user("sales@example.com", crm.RoleMember)
		_, seg := e.api("POST", "/api/v1/segments", tok, `{"name":"All"}`)
		segID := int64(seg["id"].(float64))
		type person struct {
			customer, contact int64
			email             string
		}
		var people []person
		for i := range 6 {
			email := fmt.Sprintf("p%d@example.com", i)
			c, k := e.customerWithEmail(fmt.Sprintf("Person %d", i), email)
			people = append(people, person{c, k, email})
			if _, err := db.AddSegmentMembers(t.Context(), segID, []int64{c}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		suppressed := map[string]bool{}
		active := map[int]bool{}
		for i := range people {
			active[i] = true
		}
		rng := rand.New(rand.NewPCG(42, uint64(len(db.Engine()))))
		seen := 0
		check := func(step int, op string) {
			got := mails.received()
			for _, m := range got[seen:] {
				if suppressed[m.to] {
					t.Fatalf("step %d (%s): mail delivered to suppressed %s", step, op, m.to)
				}
			}
			seen = len(got)
		}
		for step := range 80 {
			i := rng.IntN(len(people))
			p := people[i]
			switch op := rng.IntN(7); op {
			case 0:
				e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", p.contact), tok, `{"reason":"manual"}`)
				suppressed[p.email] = true
			case 1:
				st, _ := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/unsuppress", p.contact), tok, `{"note":"changed their mind"}`)
				if st == 200 {
					suppressed[p.email] = false
				}
			case 2:
				e.api("POST", "/api/v1/webhooks/email-events", webhookToken, fmt.Sprintf(`{"email":%q,"type":"complaint"}`, p.email))
				suppressed[p.email] = true
			case 3:
				if !active[i] {
					continue // merged away: writing to it is refused, pointing to its primary
				}
				st, _ := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", p.customer), tok, `{"channel":"email","subject":"s","body":"b"}`)
				if (st == 200) == suppressed[p.email] {
					t.Fatalf("step %d: manual send to %s (suppressed %v) answered %d", step, p.email, suppressed[p.email], st)
				}
				check(step, "manual send")
			case 4: // merge another active person into this one: their contacts move, suppression and all
				j := rng.IntN(len(people))
				if !active[i] || !active[j] || i == j {
					continue
				}
				st, b := e.api("POST", "/api/v1/customers/merge", tok, fmt.Sprintf(`{"primary_id":%d,"secondary_ids":[%d],"confirm":true}`, p.customer, people[j].customer))
				if st != 200 {
					t.Fatalf("step %d: merge %v", step, b)
				}
				active[j] = false
			case 5, 6:
				_, b := e.api("POST", fmt.Sprintf("/api/v1/segments/%d/send", segID), tok, `{"subject":"s","body":"b"}`)
				j := e.waitJob(tok, int64(b["job"].(map[string]any)["id"].(float64)))
				n, live := 0, 0
				for k := range people {
					if active[k] {
						live++
						if suppressed[people[k].email] {
							n++ // a segment send goes to each member's primary e-mail: their own, after a merge too
						}
					}
				}
				if res := j["result"].(map[string]any); res["skipped_suppressed"] != float64(n) || res["sent"] != float64(live-n) {
					t.Fatalf("step %d: segment result %v with %d of %d suppressed", step, res, n, live)
				}
				check(step, "segment send")
			}
		}
		if seen == 0 {
			t.Fatal("nothing was ever sent: the property was not exercised")
		}
	})
}
