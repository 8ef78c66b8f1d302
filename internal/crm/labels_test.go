package crm

import (
	"testing"
	"time"
)

func TestLabels(t *testing.T) {
	for got, want := range map[string]string{
		ReasonLabel(ReasonDoNotContact):    "Do not contact",
		ReasonLabel(ReasonUnsubscribe):     "Unsubscribed",
		ChannelLabel(ChannelEmail):         "E-mail",
		ChannelLabel(ChannelLinkedIn):      "LinkedIn",
		ChannelLabel(ChannelPhone):         "Phone",
		ImportTargetLabel("first_name"):    "First name",
		ImportTargetLabel("owner_email"):   "Owner's e-mail",
		ImportTargetLabel("custom:vip"):    "Vip",
		DealStageLabel("negotiation"):      "Negotiation",
		Humanize("do_not_contact"):         "Do not contact",
		Plural(1, "customer"):              "1 customer",
		Plural(0, "customer"):              "0 customers",
		Plural(1200, "company"):            "1,200 companies",
		Plural(2, "person", "people"):      "2 people",
		Plural(3, "address"):               "3 addresses",
		PhoneDisplay("+493012345678"):      "+49 30 12345678",
		PhoneDisplay("not a number"):       "not a number",
		ContactDisplay(ChannelEmail, "+1"): "+1",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for _, c := range Channels {
		if ChannelLabel(c) == string(c) || ChannelPlaceholder(c) == "" {
			t.Errorf("channel %s has no label or example", c)
		}
	}
	for _, r := range Reasons {
		if ReasonLabel(r) == string(r) {
			t.Errorf("reason %s has no label", r)
		}
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := time.Date(2026, 3, 7, 23, 30, 0, 0, time.UTC)
	if got := FormatDateTime(at, tokyo); got != "8 Mar 2026, 08:30 JST" {
		t.Errorf("FormatDateTime: %q", got)
	}
	if got := FormatDate(at, nil); got != "7 Mar 2026" {
		t.Errorf("FormatDate: %q", got)
	}
}
