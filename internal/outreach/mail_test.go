package outreach_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/acme/crm/internal/outreach"
)

// mailServer is a real SMTP server in the test process, with or without
// STARTTLS, that accepts PLAIN auth even in clear (as a careless relay
// would) and records what it was told and whether the line was encrypted.
type mailServer struct {
	mu        sync.Mutex
	delivered []string // recipients, with "+tls" when the message came over TLS
	passwords []string // passwords received, with "+tls" when over TLS
}

type mailSession struct {
	s    *mailServer
	conn *gosmtp.Conn
	to   string
}

func (m *mailServer) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &mailSession{s: m, conn: c}, nil
}

func (x *mailSession) tls() string {
	if _, ok := x.conn.TLSConnectionState(); ok {
		return "+tls"
	}
	return ""
}
func (x *mailSession) Reset()                                 {}
func (x *mailSession) Logout() error                          { return nil }
func (x *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	x.to = to
	return nil
}
func (x *mailSession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.delivered = append(x.s.delivered, x.to+x.tls())
	return nil
}
func (x *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, password string) error {
		x.s.mu.Lock()
		defer x.s.mu.Unlock()
		x.s.passwords = append(x.s.passwords, password+x.tls())
		return nil
	}), nil
}

func (m *mailServer) seen() (delivered, passwords string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.delivered, ","), strings.Join(m.passwords, ",")
}

// startMailServer starts a server; withTLS offers STARTTLS with a
// certificate that roots trusts.
func startMailServer(t *testing.T, withTLS bool) (*mailServer, int, *x509.CertPool) {
	m := &mailServer{}
	srv := gosmtp.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	roots := x509.NewCertPool()
	if withTLS {
		// borrow httptest's certificate (valid for 127.0.0.1)
		hs := httptest.NewUnstartedServer(http.NotFoundHandler())
		hs.StartTLS()
		srv.TLSConfig = &tls.Config{Certificates: hs.TLS.Certificates}
		roots.AddCert(hs.Certificate())
		hs.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m, ln.Addr().(*net.TCPAddr).Port, roots
}

func TestSMTPTLSModes(t *testing.T) {
	msg := outreach.Mail{From: "crm@example.com", To: "ann@example.com", Subject: "Hi", Body: "Hello"}
	cases := []struct {
		name      string
		serverTLS bool
		mode      string // CRM_SMTP_TLS
		user      bool
		wantErr   string // "" = delivered
		delivered string
		passwords string
	}{
		{name: "password, default mode, server with STARTTLS", serverTLS: true, user: true,
			delivered: "ann@example.com+tls", passwords: "secret+tls"},
		{name: "password, default mode, server without STARTTLS", user: true, wantErr: "STARTTLS"},
		{name: "password, opportunistic, server without STARTTLS", mode: outreach.TLSOpportunistic, user: true, wantErr: "without TLS"},
		{name: "password, none", serverTLS: true, mode: outreach.TLSNone, user: true, wantErr: "without TLS"},
		{name: "no password, default mode, server with STARTTLS", serverTLS: true, delivered: "ann@example.com+tls"},
		{name: "no password, default mode, server without STARTTLS", delivered: "ann@example.com"},
		{name: "no password, starttls required, server without", mode: outreach.TLSRequired, wantErr: "STARTTLS"},
		{name: "no password, starttls required, server with", serverTLS: true, mode: outreach.TLSRequired, delivered: "ann@example.com+tls"},
		{name: "no password, none, server with STARTTLS", serverTLS: true, mode: outreach.TLSNone, delivered: "ann@example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, port, roots := startMailServer(t, tc.serverTLS)
			m := outreach.SMTP{Host: "127.0.0.1", Port: port, Timeout: 5 * time.Second, TLS: tc.mode,
				TLSConfig: &tls.Config{RootCAs: roots}}
			if tc.user {
				m.User, m.Password = "crm", "secret"
			}
			err := m.Send(t.Context(), msg)
			delivered, passwords := srv.seen()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				if delivered != "" || passwords != "" {
					t.Fatalf("refused, yet the server got mail %q and passwords %q", delivered, passwords)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if delivered != tc.delivered || passwords != tc.passwords {
				t.Fatalf("delivered %q passwords %q, want %q %q", delivered, passwords, tc.delivered, tc.passwords)
			}
		})
	}
}
