// Package outreach is the one gate every message leaves through. It refuses
// (manual) or skips (automated) suppressed contacts, delivers over SMTP or
// keeps the message in the outbox, signs each recipient's unsubscribe link,
// and takes in bounces, complaints and inbound messages.
package outreach

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Message statuses.
const (
	StatusSent       = "sent"
	StatusOutbox     = "outbox" // no SMTP configured: not delivered
	StatusFailed     = "failed"
	StatusSuppressed = "skipped_suppressed"
	StatusReceived   = "received"
	StatusLogged     = "logged" // an outbound message recorded from elsewhere
)

// Limits.
const (
	MaxSubject = 300
	MaxBody    = 100_000
)

// Service is the send gate.
type Service struct {
	Store   crm.Store
	Mailer  Mailer // nil: outbox only
	From    string // sender address
	BaseURL string // for unsubscribe links
	Now     func() time.Time
}

// New returns the gate over a store.
func New(st crm.Store, m Mailer, from, baseURL string) *Service {
	if from == "" {
		from = "no-reply@localhost"
	}
	return &Service{Store: st, Mailer: m, From: from, BaseURL: strings.TrimRight(baseURL, "/"), Now: time.Now}
}

// Outcome is what happened to one message.
type Outcome struct {
	Message *crm.Message `json:"message"`
	Status  string       `json:"status"`
	Error   string       `json:"error,omitempty"`
}

func checkContent(subject, body string) error {
	var fe crm.FieldErrors
	if err := crm.CheckText("subject", subject); err != nil {
		return err
	}
	if err := crm.CheckText("body", body); err != nil {
		return err
	}
	if strings.TrimSpace(subject) == "" {
		fe.Add("subject", "Write a subject.")
	} else if utf8.RuneCountInString(subject) > MaxSubject {
		fe.Add("subject", "Use at most %d characters.", MaxSubject)
	}
	if strings.TrimSpace(body) == "" {
		fe.Add("body", "Write a message.")
	} else if len(body) > MaxBody {
		fe.Add("body", "Use at most %d characters.", MaxBody)
	}
	return fe.Err()
}

// SendManual sends one e-mail to a customer's e-mail contact (the primary one
// when contactID is 0). A suppressed contact is refused with the reason.
func (s *Service) SendManual(ctx context.Context, actor *crm.User, customerID, contactID int64, subject, body string) (*Outcome, error) {
	if err := checkContent(subject, body); err != nil {
		return nil, err
	}
	c, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if c.MergedInto != nil {
		return nil, crm.Conflict("%s was merged into customer %d; write to that one.", c.FullName, *c.MergedInto)
	}
	k, err := pickEmail(c, contactID)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, actor, c, k, subject, body, false)
}

func pickEmail(c *crm.Customer, contactID int64) (*crm.Contact, error) {
	var first *crm.Contact
	for i := range c.Contacts {
		k := &c.Contacts[i]
		if k.Channel != crm.ChannelEmail {
			continue
		}
		if contactID != 0 && k.ID == contactID {
			return k, nil
		}
		if first == nil || k.Primary {
			if first == nil || !first.Primary {
				first = k
			}
		}
	}
	if contactID != 0 {
		return nil, crm.Invalid("contact_id", "Contact %d is not an e-mail address of %s.", contactID, c.FullName)
	}
	if first == nil {
		return nil, crm.Invalid("contact_id", "%s has no e-mail address.", c.FullName)
	}
	return first, nil
}

// ErrSuppressed marks a refusal by the gate.
var ErrSuppressed = errors.New("suppressed")

// send passes one message through the gate: a fresh read of the contact's
// suppression decides, right before delivery.
func (s *Service) send(ctx context.Context, actor *crm.User, c *crm.Customer, k *crm.Contact, subject, body string, automated bool) (*Outcome, error) {
	fresh, err := s.Store.GetContact(ctx, k.ID)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	m := &crm.Message{CustomerID: c.ID, ContactID: &k.ID, Direction: crm.Outbound, Channel: crm.ChannelEmail, Address: fresh.Value,
		Subject: subject, Body: body, Automated: automated, At: now}
	if actor != nil {
		m.UserID = &actor.ID
	}
	if sup := fresh.Suppression; sup != nil {
		if !automated {
			return nil, &crm.Error{Code: crm.CodeConflict, Err: ErrSuppressed, Field: "contact_id",
				Message: fmt.Sprintf("%s is suppressed (%s since %s); nothing was sent.", fresh.Value, strings.ReplaceAll(string(sup.Reason), "_", " "), sup.At.Format("2006-01-02"))}
		}
		m.Status = StatusSuppressed
		return &Outcome{Message: m, Status: m.Status}, s.record(ctx, actor, m)
	}
	var sendErr error
	switch {
	case s.Mailer == nil:
		m.Status = StatusOutbox
	default:
		link, err := s.UnsubscribeURL(ctx, k.ID)
		if err != nil {
			return nil, err
		}
		sendErr = s.Mailer.Send(ctx, Mail{From: s.From, To: fresh.Value, Subject: subject, Body: body, Unsubscribe: link, Date: now})
		m.Status = StatusSent
		if sendErr != nil {
			m.Status = StatusFailed
		}
	}
	out := &Outcome{Message: m, Status: m.Status}
	if sendErr != nil {
		out.Error = sendErr.Error()
	}
	return out, s.record(ctx, actor, m)
}

// record stores a message and its activity entry together.
func (s *Service) record(ctx context.Context, actor *crm.User, m *crm.Message) error {
	return s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.AddMessage(ctx, m); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"direction": m.Direction, "subject": m.Subject, "address": m.Address, "status": m.Status, "automated": m.Automated})
		a := &crm.Activity{CustomerID: m.CustomerID, Kind: crm.ActMessage, Data: data, At: m.At}
		if actor != nil && m.Direction == crm.Outbound {
			a.Actor = &crm.UserRef{ID: actor.ID, Name: actor.Name, Email: actor.Email}
		}
		return tx.AddActivity(ctx, a)
	})
}

// SegmentResult counts an automated send to a segment.
type SegmentResult struct {
	Segment           int64 `json:"segment"`
	Total             int   `json:"total"`
	Processed         int   `json:"processed"`
	Sent              int   `json:"sent"`
	SkippedSuppressed int   `json:"skipped_suppressed"`
	Failed            int   `json:"failed"`
	NoEmail           int   `json:"no_email"` // counted in failed too: nothing could be sent
}

// SendToSegment sends one message to every active member of a segment,
// skipping and counting suppressed contacts. progress is called as it goes.
func (s *Service) SendToSegment(ctx context.Context, actor *crm.User, segmentID int64, subject, body string, progress func(SegmentResult) error) (*SegmentResult, error) {
	if err := checkContent(subject, body); err != nil {
		return nil, err
	}
	r := &SegmentResult{Segment: segmentID}
	q := crm.CustomerQuery{Filter: crm.CustomerFilter{SegmentID: segmentID}, Sort: "created", Limit: 200}
	for {
		page, err := s.Store.FindCustomers(ctx, q)
		if err != nil {
			return r, err
		}
		if r.Total == 0 {
			r.Total = page.Total
		}
		for _, listed := range page.Items {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			c, err := s.Store.GetCustomer(ctx, listed.ID)
			if err != nil {
				return r, err
			}
			r.Processed++
			k, err := pickEmail(c, 0)
			if err != nil {
				r.Failed++
				r.NoEmail++
				continue
			}
			out, err := s.send(ctx, actor, c, k, subject, body, true)
			if err != nil {
				return r, err
			}
			switch out.Status {
			case StatusSent, StatusOutbox:
				r.Sent++
			case StatusSuppressed:
				r.SkippedSuppressed++
			default:
				r.Failed++
			}
		}
		if progress != nil {
			if err := progress(*r); err != nil {
				return r, err
			}
		}
		if page.NextCursor == "" {
			return r, nil
		}
		q.Cursor = page.NextCursor
	}
}

// --- unsubscribe links ----------------------------------------------------------

func (s *Service) key(ctx context.Context) ([]byte, error) {
	v, err := s.Store.Setting(ctx, "unsubscribe_key", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// UnsubscribeToken signs a contact id: only this server can make one.
func (s *Service) UnsubscribeToken(ctx context.Context, contactID int64) (string, error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	id := binary.BigEndian.AppendUint64(nil, uint64(contactID))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("unsubscribe:"))
	mac.Write(id)
	return base64.RawURLEncoding.EncodeToString(append(id, mac.Sum(nil)[:16]...)), nil
}

// UnsubscribeURL is the absolute link to put in an e-mail.
func (s *Service) UnsubscribeURL(ctx context.Context, contactID int64) (string, error) {
	t, err := s.UnsubscribeToken(ctx, contactID)
	if err != nil {
		return "", err
	}
	return s.BaseURL + "/u/" + t, nil
}

// ErrBadToken is a tampered, foreign or malformed unsubscribe token.
var ErrBadToken = &crm.Error{Code: crm.CodeNotFound, Message: "This unsubscribe link is not valid. Use the link from the e-mail exactly as it was sent."}

// contactOfToken checks a token and returns its contact.
func (s *Service) contactOfToken(ctx context.Context, token string) (*crm.Contact, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 8+16 {
		return nil, ErrBadToken
	}
	key, err := s.key(ctx)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("unsubscribe:"))
	mac.Write(raw[:8])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[8:]) {
		return nil, ErrBadToken
	}
	k, err := s.Store.GetContact(ctx, int64(binary.BigEndian.Uint64(raw[:8])))
	if errors.Is(err, crm.ErrNotFound) {
		return nil, ErrBadToken
	}
	return k, err
}

// UnsubscribeInfo returns the address a link would unsubscribe (for the
// confirmation page), and whether it already is.
func (s *Service) UnsubscribeInfo(ctx context.Context, token string) (address string, already bool, err error) {
	k, err := s.contactOfToken(ctx, token)
	if err != nil {
		return "", false, err
	}
	return k.Value, k.Suppression != nil, nil
}

// Unsubscribe suppresses the link's contact with reason unsubscribe; a
// repeated click changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string) (string, error) {
	k, err := s.contactOfToken(ctx, token)
	if err != nil {
		return "", err
	}
	return k.Value, s.suppressBySystem(ctx, k, crm.ReasonUnsubscribe, "Unsubscribe link")
}

func (s *Service) suppressBySystem(ctx context.Context, k *crm.Contact, reason crm.Reason, note string) error {
	if k.Suppression != nil {
		return nil // already suppressed: a repeated event changes nothing
	}
	now := s.Now().UTC()
	return s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.SetSuppression(ctx, k.ID, &crm.Suppression{Reason: reason, Note: note, At: now},
			crm.SuppressionEvent{Action: "suppress", Reason: reason, Note: note, At: now}); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"channel": k.Channel, "value": k.Value, "reason": reason, "note": note})
		return tx.AddActivity(ctx, &crm.Activity{CustomerID: k.CustomerID, Kind: crm.ActSuppressed, Data: data, At: now})
	})
}

// EmailEvent applies a bounce or complaint from the mail provider to every
// contact with that address. It reports how many it suppressed now.
func (s *Service) EmailEvent(ctx context.Context, email, kind string) (int, error) {
	var reason crm.Reason
	switch kind {
	case "bounce":
		reason = crm.ReasonBounce
	case "complaint":
		reason = crm.ReasonComplaint
	default:
		return 0, crm.Invalid("type", "%q is not bounce or complaint.", kind)
	}
	addr, err := crm.NormalizeEmail(email)
	if err != nil {
		return 0, crm.Invalid("email", "%q is not an e-mail address.", email)
	}
	ks, err := s.Store.FindContactsByValue(ctx, crm.ChannelEmail, addr)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range ks {
		if ks[i].Suppression != nil {
			continue
		}
		if err := s.suppressBySystem(ctx, &ks[i], reason, "Reported by the mail provider ("+kind+")"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Record logs a message that did not leave through the gate: an inbound one
// (matched to every customer with that contact) or an outbound one sent
// elsewhere. An unknown address is a not-found error.
func (s *Service) Record(ctx context.Context, actor *crm.User, dir crm.Direction, ch crm.Channel, address, subject, body string) ([]crm.Message, error) {
	if dir != crm.Inbound && dir != crm.Outbound {
		return nil, crm.Invalid("direction", "%q is not inbound or outbound.", dir)
	}
	if !ch.Valid() {
		return nil, crm.Invalid("channel", "%q is not a channel.", ch)
	}
	if utf8.RuneCountInString(subject) > MaxSubject || len(body) > MaxBody {
		return nil, crm.Invalid("body", "The message is too long.")
	}
	v, err := crm.NormalizeContact(ch, address, "")
	if err != nil {
		field := "from"
		if dir == crm.Outbound {
			field = "to"
		}
		return nil, crm.Invalid(field, "%s", strings.TrimPrefix(err.Error(), "value: "))
	}
	ks, err := s.Store.FindContactsByValue(ctx, ch, v)
	if err != nil {
		return nil, err
	}
	var out []crm.Message
	for _, k := range ks {
		c, err := s.Store.GetCustomer(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		if c.MergedInto != nil {
			continue // its contacts moved to the primary, which has this contact too
		}
		m := &crm.Message{CustomerID: c.ID, ContactID: &k.ID, Direction: dir, Channel: ch, Address: v, Subject: subject, Body: body, At: s.Now().UTC()}
		m.Status = StatusReceived
		if dir == crm.Outbound {
			m.Status = StatusLogged
			m.UserID = &actor.ID
		}
		if err := s.record(ctx, actor, m); err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	if len(out) == 0 {
		return nil, &crm.Error{Code: crm.CodeNotFound, Field: "from", Message: fmt.Sprintf("No customer has the %s %s.", ch, v)}
	}
	return out, nil
}
