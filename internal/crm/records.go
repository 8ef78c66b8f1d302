package crm

import (
	"encoding/json"
	"time"
)

// Direction of a message.
type Direction string

const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Message is one message to or from a customer.
type Message struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	ContactID  *int64    `json:"contact_id"`
	Direction  Direction `json:"direction"`
	Channel    Channel   `json:"channel"`
	Address    string    `json:"address"` // the contact value it went to or came from
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	Automated  bool      `json:"automated"`
	Status     string    `json:"status"` // received, sent, outbox, failed, skipped_suppressed
	UserID     *int64    `json:"user_id"`
	At         time.Time `json:"at"`
}

// Deal is a sales opportunity of a customer. Amount is in minor units (cents).
type Deal struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	Title      string    `json:"title"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Stage      string    `json:"stage"`
	AuthorID   *int64    `json:"author_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Deal stages, in pipeline order.
var DealStages = []string{"lead", "qualified", "proposal", "negotiation", "won", "lost"}

// Note is free text about a customer.
type Note struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	Body       string    `json:"body"`
	AuthorID   *int64    `json:"author_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Task is something to do about a customer.
type Task struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"`
	Title      string     `json:"title"`
	Due        *time.Time `json:"due"`
	DoneAt     *time.Time `json:"done_at"`
	AuthorID   *int64     `json:"author_id"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Activity is one entry of a customer's append-only log. Kind names what
// happened ("created", "owner_changed", ...); Data holds its details.
type Activity struct {
	ID         int64           `json:"id"`
	CustomerID int64           `json:"customer_id"`
	Actor      *UserRef        `json:"actor"`
	Kind       string          `json:"kind"`
	Data       json.RawMessage `json:"data"`
	At         time.Time       `json:"at"`
}

// Import statuses.
const (
	ImportUploaded = "uploaded"
	ImportQueued   = "queued"
	ImportRunning  = "running"
	ImportDone     = "done"
	ImportFailed   = "failed"
	ImportCanceled = "canceled"
)

// ImportJob is one CSV import; Position is the byte offset and row number
// reached, persisted per batch so a restarted job resumes exactly there.
type ImportJob struct {
	ID        int64             `json:"id"`
	UserID    int64             `json:"user_id"`
	Filename  string            `json:"filename"`
	Path      string            `json:"-"` // "" once the file was deleted (the import ended or expired)
	Header    []string          `json:"-"` // the columns of the file, kept for the error report
	Size      int64             `json:"size"`
	Status    string            `json:"status"`
	Mode      string            `json:"mode"`
	Mapping   map[string]string `json:"mapping"`
	Total     int64             `json:"total"`
	Processed int64             `json:"processed"`
	Created   int64             `json:"created"`
	Updated   int64             `json:"updated"`
	Skipped   int64             `json:"skipped"`
	Failed    int64             `json:"failed"`
	Offset    int64             `json:"-"`
	Error     string            `json:"error,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	EndedAt   *time.Time        `json:"ended_at"`
}
