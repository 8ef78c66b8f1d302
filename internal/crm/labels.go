package crm

import (
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// The words people read for the values the product stores: every page shows
// a stored key (do_not_contact, linkedin, first_name...) through one of these,
// never the key itself. TemplateFuncs offers them to the page templates.

var channelLabels = map[Channel]string{
	ChannelEmail: "E-mail", ChannelPhone: "Phone", ChannelLinkedIn: "LinkedIn", ChannelWhatsApp: "WhatsApp",
	ChannelTelegram: "Telegram", ChannelWebsite: "Website", ChannelOther: "Other",
}

// ChannelLabel is a channel as people name it ("E-mail", "LinkedIn").
func ChannelLabel(c Channel) string {
	if l, ok := channelLabels[c]; ok {
		return l
	}
	return Humanize(string(c))
}

// channelPlaceholders are examples of a value of each channel, for an empty field.
var channelPlaceholders = map[Channel]string{
	ChannelEmail: "name@example.com", ChannelPhone: "+49 30 1234567", ChannelLinkedIn: "https://www.linkedin.com/in/name",
	ChannelWhatsApp: "+49 151 12345678", ChannelTelegram: "@name", ChannelWebsite: "https://example.com", ChannelOther: "How to reach them",
}

// ChannelPlaceholder is an example value of the channel.
func ChannelPlaceholder(c Channel) string { return channelPlaceholders[c] }

var reasonLabels = map[Reason]string{
	ReasonUnsubscribe: "Unsubscribed", ReasonBounce: "Bounced", ReasonComplaint: "Marked as spam",
	ReasonManual: "Suppressed by hand", ReasonDoNotContact: "Do not contact",
}

// ReasonLabel is why a contact is suppressed, in words ("Do not contact").
func ReasonLabel(r Reason) string {
	if l, ok := reasonLabels[r]; ok {
		return l
	}
	return Humanize(string(r))
}

var stageLabels = map[string]string{
	"lead": "Lead", "qualified": "Qualified", "proposal": "Proposal", "negotiation": "Negotiation", "won": "Won", "lost": "Lost",
}

// DealStageLabel is a deal stage as shown ("Negotiation").
func DealStageLabel(s string) string {
	if l, ok := stageLabels[s]; ok {
		return l
	}
	return Humanize(s)
}

var importTargetLabels = map[string]string{
	"first_name": "First name", "last_name": "Last name", "full_name": "Full name", "email": "E-mail",
	"phone": "Phone", "linkedin_url": "LinkedIn profile", "company_name": "Company", "tags": "Tags",
	"segment_id": "Segment", "owner_email": "Owner's e-mail", "language": "Language", "country": "Country",
	"timezone": "Time zone",
}

// ImportTargetLabel is what an import column fills, in words ("First name").
// score:KEY and custom:KEY targets are named by the caller, who knows the
// product's or field's name; here they read "Score (KEY)" and "KEY".
func ImportTargetLabel(t string) string {
	if l, ok := importTargetLabels[t]; ok {
		return l
	}
	if k, ok := strings.CutPrefix(t, "score:"); ok {
		return "Score (" + k + ")"
	}
	if k, ok := strings.CutPrefix(t, "custom:"); ok {
		return Humanize(k)
	}
	if t == "" {
		return "Not imported"
	}
	return Humanize(t)
}

// Humanize turns a stored key into words: "do_not_contact" -> "Do not contact".
func Humanize(key string) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(key))
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Plural counts a thing in words: Plural(1, "customer") is "1 customer",
// Plural(1200, "customer") "1,200 customers"; a third argument names an
// irregular plural (Plural(2, "person", "people")).
func Plural(n int, one string, many ...string) string {
	word := one
	if n != 1 {
		if len(many) > 0 {
			word = many[0]
		} else {
			word = pluralOf(one)
		}
	}
	return Thousands(n) + " " + word
}

func pluralOf(w string) string {
	switch {
	case strings.HasSuffix(w, "y") && len(w) > 1 && !strings.ContainsRune("aeiou", rune(w[len(w)-2])):
		return w[:len(w)-1] + "ies"
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		return w + "es"
	}
	return w + "s"
}

// Thousands writes 12345 as "12,345".
func Thousands(n int) string {
	if n < 0 {
		return "-" + Thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// PhoneDisplay shows a stored (E.164) phone number in international format,
// "+49 30 1234567"; a value that is not a number is shown as it is.
func PhoneDisplay(v string) string {
	num, err := phonenumbers.Parse(v, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return v
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// ContactDisplay shows a contact value of a channel as people write it.
func ContactDisplay(c Channel, v string) string {
	if c == ChannelPhone || c == ChannelWhatsApp {
		return PhoneDisplay(v)
	}
	return v
}

// The one date style of every page: "7 Mar 2026", and "7 Mar 2026, 14:05"
// with the time, in the reader's time zone.
const (
	DateLayout     = "2 Jan 2006"
	DateTimeLayout = "2 Jan 2006, 15:04"
)

// FormatDate writes the day of t in loc (UTC when nil).
func FormatDate(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(DateLayout)
}

// FormatDateTime writes t in loc with its zone's abbreviation: "7 Mar 2026, 14:05 CET".
func FormatDateTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(DateTimeLayout + " MST")
}

// TemplateFuncs are the labels above for page templates (html/template.FuncMap).
func TemplateFuncs() map[string]any {
	return map[string]any{
		"channelLabel":       func(c Channel) string { return ChannelLabel(c) },
		"channelPlaceholder": func(c Channel) string { return ChannelPlaceholder(c) },
		"reasonLabel":        func(r Reason) string { return ReasonLabel(r) },
		"stageLabel":         DealStageLabel,
		"targetLabel":        ImportTargetLabel,
		"plural":             Plural,
		"humanize":           func(v any) string { return Humanize(fmt.Sprint(v)) },
		"phone":              PhoneDisplay,
		"contactValue":       func(c Channel, v string) string { return ContactDisplay(c, v) },
	}
}
