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
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/metrics"
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

// send passes one message through the gate: a fresh read of the contact, and
// with it of its address's suppression, decides right before delivery.
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
		metrics.Emails.WithLabelValues(metrics.EmailSkipped).Inc()
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
		link, err := s.UnsubscribeURL(ctx, fresh)
		if err != nil {
			return nil, err
		}
		sendErr = s.Mailer.Send(ctx, Mail{From: s.From, To: fresh.Value, Subject: subject, Body: body, Unsubscribe: link, Date: now})
		m.Status = StatusSent
		if sendErr != nil {
			m.Status = StatusFailed
		}
	}
	metrics.Emails.WithLabelValues(emailResult[m.Status]).Inc()
	out := &Outcome{Message: m, Status: m.Status}
	if sendErr != nil {
		out.Error = sendErr.Error()
	}
	return out, s.record(ctx, actor, m)
}

// emailResult maps a message status to its crm_emails_total result.
var emailResult = map[string]string{StatusSent: metrics.EmailSent, StatusFailed: metrics.EmailFailed, StatusOutbox: metrics.EmailOutbox}

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
	Segment   int64 `json:"segment"`
	Total     int   `json:"total"`
	Processed int   `json:"processed"`
	Sent      int   `json:"sent"` // handed to the mail server
	// Outbox counts the messages kept in the outbox because no mail server
	// is configured: recorded, not sent.
	Outbox            int `json:"outbox"`
	SkippedSuppressed int `json:"skipped_suppressed"`
	Failed            int `json:"failed"`
	NoEmail           int `json:"no_email"` // counted in failed too: nothing could be sent
	// Unknown counts the messages a crash interrupted while they were being
	// sent: possibly delivered, so never sent again.
	Unknown int `json:"unknown"`
}

// Delivery statuses of a segment send job (besides the message statuses).
const (
	DeliverySending = "sending" // claimed, not yet known to be delivered
	DeliveryNoEmail = "no_email"
)

// count adds one delivery of status st.
func (r *SegmentResult) count(st string, n int) {
	r.Processed += n
	switch st {
	case StatusSent:
		r.Sent += n
	case StatusOutbox:
		r.Outbox += n
	case StatusSuppressed:
		r.SkippedSuppressed += n
	case DeliveryNoEmail:
		r.Failed += n
		r.NoEmail += n
	case DeliverySending:
		r.Unknown += n
	default:
		r.Failed += n
	}
}

// SendToSegment sends one message to every active member of a segment,
// skipping and counting suppressed contacts. progress is called as it goes.
//
// jobID names the send (a background job) so that it can be resumed: every
// customer handled is recorded under it before its message leaves, and a
// customer or contact already recorded is never written to again, whoever
// runs the job and however often. A message interrupted by a crash between
// the record and the delivery is reported as unknown (possibly sent) rather
// than risking a second copy. ctx ending stops the send between two
// customers; a customer begun is finished.
func (s *Service) SendToSegment(ctx context.Context, actor *crm.User, jobID, segmentID int64, subject, body string, progress func(SegmentResult) error) (*SegmentResult, error) {
	if err := checkContent(subject, body); err != nil {
		return nil, err
	}
	work := context.WithoutCancel(ctx)
	r := &SegmentResult{Segment: segmentID}
	done, err := s.Store.DeliveryCounts(ctx, jobID)
	if err != nil {
		return nil, err
	}
	for st, n := range done {
		r.count(st, n)
	}
	q := crm.CustomerQuery{Filter: crm.CustomerFilter{SegmentID: segmentID}, Sort: "created", Limit: 200}
	for {
		page, err := s.Store.FindCustomers(ctx, q)
		if err != nil {
			return r, err
		}
		if r.Total == 0 {
			r.Total = max(page.Total, r.Processed)
		}
		ids := make([]int64, len(page.Items))
		for i, c := range page.Items {
			ids[i] = c.ID
		}
		had, err := s.Store.SegmentDeliveries(ctx, jobID, ids)
		if err != nil {
			return r, err
		}
		for _, listed := range page.Items {
			if _, ok := had[listed.ID]; ok {
				continue // handled by an earlier run: counted above
			}
			if err := ctx.Err(); err != nil {
				return r, err
			}
			st, err := s.sendOnce(work, actor, jobID, listed.ID, subject, body)
			if err != nil {
				return r, err
			}
			if st != "" {
				r.count(st, 1)
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

// sendOnce writes to one customer of a segment send unless the job already
// has (claims the customer and its contact first). It returns the delivery
// status, or "" when another run had the customer or the contact.
func (s *Service) sendOnce(ctx context.Context, actor *crm.User, jobID, customerID int64, subject, body string) (string, error) {
	c, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return "", err
	}
	k, err := pickEmail(c, 0)
	if err != nil {
		ok, err := s.Store.ClaimDelivery(ctx, jobID, c.ID, nil, DeliveryNoEmail, s.Now())
		if err != nil || !ok {
			return "", err
		}
		metrics.Emails.WithLabelValues(metrics.EmailNoEmail).Inc()
		return DeliveryNoEmail, nil
	}
	ok, err := s.Store.ClaimDelivery(ctx, jobID, c.ID, &k.ID, DeliverySending, s.Now())
	if err != nil || !ok {
		return "", err
	}
	out, err := s.send(ctx, actor, c, k, subject, body, true)
	if err != nil {
		return "", err // left "sending": reported unknown, never sent again
	}
	return out.Status, s.Store.SetDeliveryStatus(ctx, jobID, c.ID, out.Status)
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

// An unsubscribe token names the address a message was sent to: version 2,
// the contact's id (for context), the channel and the value, signed. Editing
// the contact's value later leaves the address the link names unchanged.
// Tokens of mail sent before (exactly 8+16 bytes: a contact id and its
// signature) still work: they name a contact, whose address at sending time
// is not recorded, so they suppress the address that contact holds now (or
// held when it was removed), as they always did.
const tokenV2 = 2

// UnsubscribeToken signs the address of a contact: only this server can make one.
func (s *Service) UnsubscribeToken(ctx context.Context, k *crm.Contact) (string, error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	if len(k.Channel) > 255 {
		return "", fmt.Errorf("unsubscribe token: channel %q too long", k.Channel)
	}
	raw := []byte{tokenV2}
	raw = binary.BigEndian.AppendUint64(raw, uint64(k.ID))
	raw = append(raw, byte(len(k.Channel)))
	raw = append(raw, k.Channel...)
	raw = append(raw, k.Value...)
	return base64.RawURLEncoding.EncodeToString(append(raw, sign(key, "unsubscribe:v2:", raw)...)), nil
}

func sign(key []byte, prefix string, payload []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(prefix))
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// UnsubscribeURL is the absolute link to put in an e-mail to this contact's address.
func (s *Service) UnsubscribeURL(ctx context.Context, k *crm.Contact) (string, error) {
	t, err := s.UnsubscribeToken(ctx, k)
	if err != nil {
		return "", err
	}
	return s.BaseURL + "/u/" + t, nil
}

// ErrBadToken is a tampered, foreign or malformed unsubscribe token.
var ErrBadToken = &crm.Error{Code: crm.CodeNotFound, Message: "This unsubscribe link is not valid. Use the link from the e-mail exactly as it was sent."}

// tokenAddress is what a checked token names.
type tokenAddress struct {
	contactID int64 // the contact mailed (context only)
	customer  int64 // its customer when known, for the activity entry
	channel   crm.Channel
	value     string
}

// addressOfToken checks a token and returns the address it names.
func (s *Service) addressOfToken(ctx context.Context, token string) (*tokenAddress, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 8+16 {
		return nil, ErrBadToken
	}
	key, err := s.key(ctx)
	if err != nil {
		return nil, err
	}
	payload, mac := raw[:len(raw)-16], raw[len(raw)-16:]
	if len(payload) == 8 { // a token from before: a contact id
		if !hmac.Equal(sign(key, "unsubscribe:", payload), mac) {
			return nil, ErrBadToken
		}
		k, err := s.Store.GetContactEver(ctx, int64(binary.BigEndian.Uint64(payload)))
		if errors.Is(err, crm.ErrNotFound) {
			return nil, ErrBadToken
		}
		if err != nil {
			return nil, err
		}
		return &tokenAddress{contactID: k.ID, customer: k.CustomerID, channel: k.Channel, value: k.Value}, nil
	}
	if payload[0] != tokenV2 || len(payload) < 1+8+1 || !hmac.Equal(sign(key, "unsubscribe:v2:", payload), mac) {
		return nil, ErrBadToken
	}
	n := int(payload[9])
	if len(payload) <= 10+n {
		return nil, ErrBadToken
	}
	a := &tokenAddress{contactID: int64(binary.BigEndian.Uint64(payload[1:9])), channel: crm.Channel(payload[10 : 10+n]), value: string(payload[10+n:])}
	if !a.channel.Valid() {
		return nil, ErrBadToken
	}
	return a, nil
}

// UnsubscribeInfo returns the address a link would unsubscribe (for the
// confirmation page), and whether it already is.
func (s *Service) UnsubscribeInfo(ctx context.Context, token string) (address string, already bool, err error) {
	a, err := s.addressOfToken(ctx, token)
	if err != nil {
		return "", false, err
	}
	sup, err := s.Store.Suppression(ctx, a.channel, a.value)
	return a.value, sup != nil, err
}

// Unsubscribe suppresses the link's address with reason unsubscribe; a
// repeated click changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string) (string, error) {
	a, err := s.addressOfToken(ctx, token)
	if err != nil {
		return "", err
	}
	_, err = s.suppressAddress(ctx, a, crm.ReasonUnsubscribe, "Unsubscribe link")
	return a.value, err
}

// suppressAddress suppresses an address for the system (no user) unless it
// already is, logs it on every customer holding it, and reports how many
// live contacts hold it (0 when it already was suppressed).
func (s *Service) suppressAddress(ctx context.Context, a *tokenAddress, reason crm.Reason, note string) (int, error) {
	now := s.Now().UTC()
	n := 0
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		n = 0
		sup, err := tx.Suppression(ctx, a.channel, a.value)
		if err != nil || sup != nil {
			return err // already suppressed: a repeated event changes nothing
		}
		if err := tx.SetSuppression(ctx, a.channel, a.value, &crm.Suppression{Reason: reason, Note: note, At: now},
			crm.SuppressionEvent{ContactID: a.contactID, Action: "suppress", Reason: reason, Note: note, At: now}); err != nil {
			return err
		}
		holders, err := tx.FindContactsByValue(ctx, a.channel, a.value)
		if err != nil {
			return err
		}
		n = len(holders)
		data, _ := json.Marshal(map[string]any{"channel": a.channel, "value": a.value, "reason": reason, "note": note})
		var customers []int64 // each holder's customer, and a removed contact's
		if a.customer != 0 {
			customers = append(customers, a.customer)
		}
		for _, h := range holders {
			if !slices.Contains(customers, h.CustomerID) {
				customers = append(customers, h.CustomerID)
			}
		}
		for _, id := range customers {
			if err := tx.AddActivity(ctx, &crm.Activity{CustomerID: id, Kind: crm.ActSuppressed, Data: data, At: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// EmailEvent applies a bounce or complaint from the mail provider to the
// address, whoever holds it now or later. It reports how many contacts hold
// the address it suppressed now (0 when it already was).
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
	return s.suppressAddress(ctx, &tokenAddress{channel: crm.ChannelEmail, value: addr}, reason, "Reported by the mail provider ("+kind+")")
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
