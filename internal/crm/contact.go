package crm

import "time"

// Channel is a way to reach a customer.
type Channel string

const (
	ChannelEmail    Channel = "email"
	ChannelPhone    Channel = "phone"
	ChannelLinkedIn Channel = "linkedin"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelTelegram Channel = "telegram"
	ChannelWebsite  Channel = "website"
	ChannelOther    Channel = "other"
)

// Channels lists every channel in display order.
var Channels = []Channel{ChannelEmail, ChannelPhone, ChannelLinkedIn, ChannelWhatsApp, ChannelTelegram, ChannelWebsite, ChannelOther}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if c == k {
			return true
		}
	}
	return false
}

// Contact is one way to reach a customer. Value is always stored normalised.
type Contact struct {
	ID          int64        `json:"id"`
	CustomerID  int64        `json:"customer_id"`
	Channel     Channel      `json:"channel"`
	Value       string       `json:"value"`
	Primary     bool         `json:"primary"`
	Suppression *Suppression `json:"suppression"`
	CreatedAt   time.Time    `json:"created_at"`
}

// Reason is why a contact is suppressed.
type Reason string

const (
	ReasonUnsubscribe  Reason = "unsubscribe"
	ReasonBounce       Reason = "bounce"
	ReasonComplaint    Reason = "complaint"
	ReasonManual       Reason = "manual"
	ReasonDoNotContact Reason = "do_not_contact"
)

// Reasons lists every suppression reason.
var Reasons = []Reason{ReasonUnsubscribe, ReasonBounce, ReasonComplaint, ReasonManual, ReasonDoNotContact}

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool {
	for _, k := range Reasons {
		if r == k {
			return true
		}
	}
	return false
}

// Suppression is the current suppression of an address (a channel and a
// normalised value): every contact that holds the value shows it.
type Suppression struct {
	Reason Reason    `json:"reason"`
	Note   string    `json:"note"`
	By     *UserRef  `json:"by"` // nil when suppressed by the system (unsubscribe link, webhook)
	At     time.Time `json:"at"`
}

// SuppressionEvent is one entry of an address's append-only suppression
// history; ContactID is the contact that was acted on (0 when none was, as for
// a bounce of an address no contact holds).
type SuppressionEvent struct {
	ID        int64     `json:"id"`
	Channel   Channel   `json:"channel"`
	Value     string    `json:"value"`
	ContactID int64     `json:"contact_id,omitempty"`
	Action    string    `json:"action"` // "suppress" or "unsuppress"
	Reason    Reason    `json:"reason,omitempty"`
	Note      string    `json:"note"`
	By        *UserRef  `json:"by"`
	At        time.Time `json:"at"`
}
