package outreach

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mail is one outbound e-mail.
type Mail struct {
	From, To      string
	Subject, Body string
	Unsubscribe   string // absolute URL of the recipient's unsubscribe link
	Date          time.Time
}

// Mailer delivers e-mail. Without one (no SMTP configured) messages stay in the outbox.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// TLS modes of SMTP (CRM_SMTP_TLS).
const (
	TLSRequired      = "starttls"      // STARTTLS or no mail at all
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSNone          = "none"          // never (a relay on the same host); no credentials then
)

// SMTP delivers over SMTP with STARTTLS as its TLS mode says, and with
// credentials when configured: never sent without TLS.
type SMTP struct {
	Host     string
	Port     int
	User     string
	Password string
	Timeout  time.Duration
	// TLS is TLSRequired, TLSOpportunistic or TLSNone; "" means TLSRequired
	// when a password is set, else TLSOpportunistic.
	TLS string
	// TLSConfig, when set, is used for STARTTLS (tests give their own roots);
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

func (s SMTP) mode() string {
	switch {
	case s.TLS != "":
		return strings.ToLower(s.TLS)
	case s.Password != "":
		return TLSRequired
	}
	return TLSOpportunistic
}

// Send delivers one message.
func (s SMTP) Send(ctx context.Context, m Mail) error {
	mode := s.mode()
	if mode != TLSRequired && mode != TLSOpportunistic && mode != TLSNone {
		return fmt.Errorf("smtp: unknown TLS mode %q", s.TLS)
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if mode != TLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := &tls.Config{}
			if s.TLSConfig != nil {
				cfg = s.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = s.Host
			}
			cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
			if err := c.StartTLS(cfg); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
		} else if mode == TLSRequired {
			return fmt.Errorf("smtp: %s does not offer STARTTLS, which CRM_SMTP_TLS=starttls requires "+
				"(the default when a password is set); nothing was sent", s.Host)
		}
	}
	if s.User != "" {
		if _, encrypted := c.TLSConnectionState(); !encrypted {
			return fmt.Errorf("smtp: refusing to send the SMTP credentials without TLS (CRM_SMTP_TLS=%s); nothing was sent", mode)
		}
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, s.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("smtp from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp to %s: %w", m.To, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(Render(m)); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	return c.Quit()
}

// Render writes the message as RFC 5322 text, with the one-click unsubscribe
// headers (RFC 8058) and the link repeated at the end of the body.
func Render(m Mail) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "localhost"
	if i := strings.LastIndexByte(m.From, '@'); i >= 0 {
		domain = m.From[i+1:]
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.From)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", headerSafe(m.Subject)))
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	if m.Unsubscribe != "" {
		h("List-Unsubscribe", "<"+m.Unsubscribe+">")
		h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	h("MIME-Version", "1.0")
	h("Content-Type", `text/plain; charset="utf-8"`)
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if m.Unsubscribe != "" {
		body += "\n\n--\nTo stop receiving these e-mails: " + m.Unsubscribe + "\n"
	}
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// headerSafe removes line breaks, which would inject headers.
func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
