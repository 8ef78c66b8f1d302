package crm

import "time"

// FieldType is the type of a custom field; values are validated by it.
type FieldType string

const (
	FieldText        FieldType = "text"
	FieldNumber      FieldType = "number"
	FieldDate        FieldType = "date"
	FieldBoolean     FieldType = "boolean"
	FieldSelect      FieldType = "select"
	FieldMultiselect FieldType = "multiselect"
	FieldURL         FieldType = "url"
)

// FieldTypes lists every custom field type.
var FieldTypes = []FieldType{FieldText, FieldNumber, FieldDate, FieldBoolean, FieldSelect, FieldMultiselect, FieldURL}

// Valid reports whether t is a known type.
func (t FieldType) Valid() bool {
	for _, k := range FieldTypes {
		if t == k {
			return true
		}
	}
	return false
}

// CustomField is an admin-defined field on customers.
type CustomField struct {
	ID        int64      `json:"id"`
	Key       string     `json:"key"`
	Label     string     `json:"label"`
	Type      FieldType  `json:"type"`
	Options   []string   `json:"options"`
	Position  int        `json:"position"`
	RetiredAt *time.Time `json:"retired_at"`
	CreatedAt time.Time  `json:"created_at"`
}
