package live

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// CustomerEvent is what a stream sends for one change (SPEC section 10): ids and
// the kind only, never the changed values; the page fetches what it shows.
type CustomerEvent struct {
	CustomerID int64     `json:"customer_id"`
	Kind       string    `json:"kind"`
	By         *By       `json:"by"` // null: the system (an import, a bounce)
	At         time.Time `json:"at"`
}

// By is who made a change.
type By struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// event is one change as the hub keeps it: the frame is rendered once and
// written to every stream that may see it.
type event struct {
	Cursor     string
	CustomerID int64
	frame      []byte // "id: <cursor>\ndata: <json>\n\n"
}

func newEvent(c crm.Change, users map[int64]crm.User) *event {
	ev := CustomerEvent{CustomerID: c.CustomerID, Kind: c.Kind, At: c.At.UTC()}
	if c.UserID != 0 {
		name := "A former user"
		if u, ok := users[c.UserID]; ok {
			name = u.Name
		}
		ev.By = &By{ID: c.UserID, Name: name}
	}
	data, _ := json.Marshal(ev) // plain fields: cannot fail
	var b strings.Builder
	b.Grow(len(data) + len(c.Cursor) + 16)
	if c.Cursor != "" && !strings.ContainsAny(c.Cursor, "\r\n\x00") { // an id line ends at a line break
		b.WriteString("id: ")
		b.WriteString(c.Cursor)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(data) // JSON of these fields holds no line break
	b.WriteString("\n\n")
	return &event{Cursor: c.Cursor, CustomerID: c.CustomerID, frame: []byte(b.String())}
}
