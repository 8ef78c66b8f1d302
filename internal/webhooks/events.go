package webhooks

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Event types an endpoint can subscribe to.
const (
	CustomerCreated     = "customer.created"
	CustomerUpdated     = "customer.updated"
	CustomerClaimed     = "customer.claimed"
	CustomerUnclaimed   = "customer.unclaimed"
	CustomerReleased    = "customer.released"
	CustomerReassigned  = "customer.reassigned"
	CustomerTagged      = "customer.tagged"
	CustomerUntagged    = "customer.untagged"
	CustomerArchived    = "customer.archived"
	CustomerRestored    = "customer.restored"
	CustomerMerged      = "customer.merged"
	ContactSuppressed   = "contact.suppressed"
	ContactUnsuppressed = "contact.unsuppressed"
	ImportFinished      = "import.finished"
	BulkUndone          = "bulk.undone"
	// Batch is the type of a delivery that carries several events:
	// data is {"events": [event, ...]}, each event as a single delivery's body.
	Batch = "batch"
)

// Types lists every event type, in the order Settings shows them.
var Types = []string{CustomerCreated, CustomerUpdated, CustomerClaimed, CustomerUnclaimed, CustomerReleased, CustomerReassigned,
	CustomerTagged, CustomerUntagged, CustomerArchived, CustomerRestored, CustomerMerged, ContactSuppressed, ContactUnsuppressed,
	ImportFinished, BulkUndone}

// KnownType reports whether t is an event type.
func KnownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Event is one event: a delivery's body, or one element of a batch.
type Event struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// CustomerData is the data of a customer or contact event.
type CustomerData struct {
	CustomerID int64           `json:"customer_id"`
	UserID     *int64          `json:"user_id"` // who made the change; null = the system
	Change     json.RawMessage `json:"change"`  // the activity entry's data
}

// eventOf maps a change of the feed to its event, if it has one. Its id is
// the change's position, the same however often it is sent.
func eventOf(c crm.Change) (Event, bool) {
	typ := ""
	switch c.Kind {
	case crm.ActCreated:
		typ = CustomerCreated
	case crm.ActUpdated, crm.ActContactAdded, crm.ActContactUpdated, crm.ActContactRemoved,
		crm.ActSegmentAdded, crm.ActSegmentRemoved, crm.ActImported, crm.ActBulkUndone:
		typ = CustomerUpdated
	case crm.ActOwnerChanged:
		var d struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal([]byte(c.Data), &d)
		switch d.Action {
		case "claim":
			typ = CustomerClaimed
		case "unclaim":
			typ = CustomerUnclaimed
		case "release":
			typ = CustomerReleased
		default: // reassign, an import's owner_email
			typ = CustomerReassigned
		}
	case crm.ActTagAdded:
		typ = CustomerTagged
	case crm.ActTagRemoved:
		typ = CustomerUntagged
	case crm.ActArchived:
		typ = CustomerArchived
	case crm.ActRestored:
		typ = CustomerRestored
	case crm.ActMergedFrom: // the primary's entry: one event per merge
		typ = CustomerMerged
	case crm.ActSuppressed:
		typ = ContactSuppressed
	case crm.ActUnsuppressed:
		typ = ContactUnsuppressed
	default:
		return Event{}, false
	}
	d := CustomerData{CustomerID: c.CustomerID, Change: json.RawMessage(c.Data)}
	if c.UserID != 0 {
		d.UserID = &c.UserID
	}
	if !json.Valid(d.Change) {
		d.Change = json.RawMessage("{}")
	}
	b, _ := json.Marshal(d)
	return Event{ID: "evt_" + strings.ReplaceAll(c.Cursor, ".", "_"), Type: typ, At: c.At.UTC(), Data: b}, true
}
