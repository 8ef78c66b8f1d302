package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// Entry is one activity entry with the sentence a person reads.
type Entry struct {
	crm.Activity
	Text string `json:"text"`
}

// Activity returns a page of a customer's log, newest first.
func (s *Service) Activity(ctx context.Context, customerID, before int64, limit int) ([]Entry, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return nil, err
	}
	list, err := s.Store.ListActivity(ctx, customerID, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(list))
	for i, a := range list {
		out[i] = Entry{Activity: a, Text: Describe(a)}
	}
	return out, nil
}

var fieldNames = map[string]string{
	"full_name": "the name", "first_name": "the first name", "last_name": "the last name", "language": "the language",
	"country": "the country", "timezone": "the timezone", "company": "the company",
}

// Describe writes an activity entry as a sentence: "Mia claimed this customer".
func Describe(a crm.Activity) string {
	who := "Someone"
	if a.Actor != nil {
		who = a.Actor.Name
	}
	var d map[string]any
	_ = json.Unmarshal(a.Data, &d)
	str := func(k string) string {
		v, _ := d[k].(string)
		return v
	}
	name := func(k string) string {
		m, _ := d[k].(map[string]any)
		if m == nil {
			return "nobody"
		}
		n, _ := m["name"].(string)
		return n
	}
	switch a.Kind {
	case crm.ActCreated:
		switch str("source") {
		case "import":
			return who + " imported this customer"
		case "seed":
			return "This customer was added with the demo data"
		}
		return who + " added this customer"
	case crm.ActOwnerChanged:
		switch str("action") {
		case ActionClaim:
			return who + " claimed this customer"
		case ActionUnclaim:
			return who + " unclaimed this customer"
		case ActionRelease:
			return fmt.Sprintf("%s released this customer from %s", who, name("from"))
		case ActionReassign:
			return fmt.Sprintf("%s reassigned this customer from %s to %s", who, name("from"), name("to"))
		}
		return fmt.Sprintf("%s changed the owner from %s to %s", who, name("from"), name("to"))
	case crm.ActUpdated:
		field := str("field")
		switch {
		case field == "deal":
			return fmt.Sprintf("%s updated the deal %q", who, str("title"))
		case field == "note":
			return who + " edited a note"
		case field == "task":
			if done, ok := d["done"].(bool); ok {
				if done {
					return fmt.Sprintf("%s completed the task %q", who, str("title"))
				}
				return fmt.Sprintf("%s reopened the task %q", who, str("title"))
			}
			return fmt.Sprintf("%s updated the task %q", who, str("title"))
		case field == "company" && d["company_merge"] == true:
			return fmt.Sprintf("%s merged the company %s into %s", who, show(field, d["from"]), show(field, d["to"]))
		case strings.HasPrefix(field, "custom."):
			return fmt.Sprintf("%s changed %s from %s to %s", who, strings.TrimPrefix(field, "custom."), show(field, d["from"]), show(field, d["to"]))
		}
		label := fieldNames[field]
		if label == "" {
			label = field
		}
		return fmt.Sprintf("%s changed %s from %s to %s", who, label, show(field, d["from"]), show(field, d["to"]))
	case crm.ActTagAdded:
		return fmt.Sprintf("%s tagged this customer %q", who, str("tag"))
	case crm.ActTagRemoved:
		return fmt.Sprintf("%s removed the tag %q", who, str("tag"))
	case crm.ActSegmentAdded:
		return fmt.Sprintf("%s added this customer to the segment %q", who, str("segment"))
	case crm.ActSegmentRemoved:
		return fmt.Sprintf("%s removed this customer from the segment %q", who, str("segment"))
	case crm.ActContactAdded:
		return fmt.Sprintf("%s added the %s %s", who, channelName(str("channel")), str("value"))
	case crm.ActContactUpdated:
		if p, _ := d["primary"].(bool); p {
			return fmt.Sprintf("%s made %s the primary %s", who, str("value"), channelName(str("channel")))
		}
		return fmt.Sprintf("%s changed the %s from %s to %s", who, channelName(str("channel")), str("from"), str("to"))
	case crm.ActContactRemoved:
		return fmt.Sprintf("%s removed the %s %s", who, channelName(str("channel")), str("value"))
	case crm.ActSuppressed:
		s := fmt.Sprintf("%s suppressed %s (%s)", who, str("value"), strings.ReplaceAll(str("reason"), "_", " "))
		if n := str("note"); n != "" {
			s += ": " + n
		}
		return s
	case crm.ActUnsuppressed:
		return fmt.Sprintf("%s lifted the suppression of %s: %s", who, str("value"), str("note"))
	case crm.ActMessage:
		if str("direction") == string(crm.Inbound) {
			return "A message arrived: " + str("subject")
		}
		return fmt.Sprintf("%s sent %q", who, str("subject"))
	case crm.ActNoteAdded:
		return fmt.Sprintf("%s wrote a note: %s", who, str("excerpt"))
	case crm.ActDealAdded:
		return fmt.Sprintf("%s added the deal %q", who, str("title"))
	case crm.ActTaskAdded:
		return fmt.Sprintf("%s added the task %q", who, str("title"))
	case crm.ActMergedInto:
		if n := str("into_name"); n != "" {
			return fmt.Sprintf("%s merged this customer into %s", who, n)
		}
		return fmt.Sprintf("%s merged this customer into customer %v", who, d["into"])
	case crm.ActMergedFrom:
		if names, ok := d["from_names"].([]any); ok && len(names) > 0 {
			parts := make([]string, len(names))
			for i, n := range names {
				parts[i] = fmt.Sprint(n)
			}
			return fmt.Sprintf("%s merged %s into this customer", who, strings.Join(parts, ", "))
		}
		return fmt.Sprintf("%s merged customers %v into this one", who, d["from"])
	case crm.ActArchived:
		return who + " archived this customer"
	case crm.ActRestored:
		return who + " restored this customer"
	case crm.ActImported:
		return who + " updated this customer from an import"
	case crm.ActBulkUndone:
		return who + " undid the bulk " + undoneName(str("action"), str("detail"))
	}
	return fmt.Sprintf("%s: %s", who, a.Kind)
}

func channelName(ch string) string {
	switch ch {
	case "email":
		return "e-mail"
	case "linkedin":
		return "LinkedIn profile"
	case "whatsapp":
		return "WhatsApp number"
	case "telegram":
		return "Telegram handle"
	}
	return ch
}

// show writes a changed value for a sentence.
func show(field string, v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if x == "" {
			return "nothing"
		}
		switch field {
		case "country":
			if n := crm.CountryName(x); n != "" {
				return n
			}
		case "language":
			if n := crm.LanguageName(x); n != "" {
				return n
			}
		}
		return x
	case map[string]any:
		if n, ok := x["name"].(string); ok {
			return n
		}
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// undoneName names an undone bulk action for its activity sentence.
func undoneName(action, detail string) string {
	switch action {
	case BulkTag:
		return fmt.Sprintf("tag %q", detail)
	case BulkSegmentAdd:
		return fmt.Sprintf("add to the segment %q", detail)
	case BulkSegmentRemove:
		return fmt.Sprintf("removal from the segment %q", detail)
	}
	return action
}
