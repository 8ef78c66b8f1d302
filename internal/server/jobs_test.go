package server_test

import (
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// gateSMTP is an SMTP server whose every DATA waits for the test to let it
// through: a send job is held running at its first message (until the
// client's timeout fails it).
type gateSMTP struct {
	open    chan struct{}
	data    atomic.Int64 // messages that reached DATA
	arrived chan struct{}
}

func (g *gateSMTP) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &gateSession{g: g}, nil }

type gateSession struct{ g *gateSMTP }

func (x *gateSession) Reset()                                 {}
func (x *gateSession) Logout() error                          { return nil }
func (x *gateSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *gateSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (x *gateSession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	x.g.data.Add(1)
	select {
	case x.g.arrived <- struct{}{}:
	default:
	}
	<-x.g.open
	return nil
}

// TestCancelJob: POST /api/v1/jobs/{id}/cancel stops a running send after
// the message in flight (nothing more is sent), answers 202 while it stops,
// 409 once it has ended, 404 to another member and 401 to nobody.
func TestCancelJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := &gateSMTP{open: make(chan struct{}), arrived: make(chan struct{}, 1)}
		srv := gosmtp.NewServer(g)
		srv.Domain = "localhost"
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { close(g.open); _ = srv.Close() })
		// the message in flight fails after this; River tells a running job
		// of its cancel well before (at once on PostgreSQL, within 2 s on
		// SQLite, which has no notifications)
		e.out.Mailer = outreach.SMTP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Timeout: 8 * time.Second}

		_, tok := e.user("sales@example.com", crm.RoleMember)
		_, otherTok := e.user("other@example.com", crm.RoleMember)
		_, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		sg := &crm.Segment{Name: "All", CreatedAt: time.Now()}
		if err := db.CreateSegment(t.Context(), sg); err != nil {
			t.Fatal(err)
		}
		var members []int64
		for i := range 5 {
			id, _ := e.customerWithEmail(fmt.Sprintf("C%d", i), fmt.Sprintf("c%d@example.com", i))
			members = append(members, id)
		}
		if _, err := db.AddSegmentMembers(t.Context(), sg.ID, members, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, out := e.api("POST", fmt.Sprintf("/api/v1/segments/%d/send", sg.ID), tok, `{"subject":"Hi","body":"Hello"}`)
		if st != 202 {
			t.Fatalf("send: %d %v", st, out)
		}
		id := int64(out["job"].(map[string]any)["id"].(float64))
		path := fmt.Sprintf("/api/v1/jobs/%d/cancel", id)
		select {
		case <-g.arrived: // the first message is being delivered: the job runs
		case <-time.After(30 * time.Second):
			t.Fatal("the send did not start")
		}
		if st, _ := e.api("POST", path, "", ""); st != 401 {
			t.Fatalf("anonymous cancel: %d", st)
		}
		if st, _ := e.api("POST", path, otherTok, ""); st != 404 {
			t.Fatalf("another member's cancel: %d", st)
		}
		st, j := e.api("POST", path, tok, "")
		if st != 202 || j["status"] != "running" {
			t.Fatalf("cancel a running job: %d %v", st, j)
		}
		j = e.waitJob(tok, id)
		if j["status"] != "canceled" {
			t.Fatalf("the job ended %v", j)
		}
		if n := g.data.Load(); n != 1 {
			t.Fatalf("%d messages sent after the cancel (want only the one in flight)", n)
		}
		if p, _ := j["progress"].(map[string]any); p == nil || p["processed"] != float64(1) || p["failed"] != float64(1) {
			t.Fatalf("the canceled job's progress: %v", j["progress"])
		}
		if st, body := e.api("POST", path, tok, ""); st != 409 || errCode(body) != "conflict" {
			t.Fatalf("cancel an ended job: %d %v", st, body)
		}
		if st, _ := e.api("POST", path, adminTok, ""); st != 409 {
			t.Fatalf("an admin's cancel of an ended job: %d", st)
		}
		if st, _ := e.api("POST", "/api/v1/jobs/999999/cancel", adminTok, ""); st != 404 {
			t.Fatalf("cancel of no job: %d", st)
		}
	})
}
