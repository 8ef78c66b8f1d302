package crm

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

var linkedInSlug = regexp.MustCompile(`^[\p{L}\p{N}_-]{2,100}$`)

// NormalizeContact returns the stored form of a contact value: e-mail trimmed and
// lower-cased, phone (and WhatsApp) in E.164 using region (ISO 3166-1 alpha-2) for
// national numbers, LinkedIn as https://www.linkedin.com/in/<slug>. It refuses
// values that cannot be a contact of that channel, naming the reason.
func NormalizeContact(ch Channel, value, region string) (string, error) {
	if err := CheckText("value", value); err != nil {
		return "", err
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return "", Invalid("value", "is empty")
	}
	if len(v) > 500 {
		return "", Invalid("value", "is longer than 500 characters")
	}
	switch ch {
	case ChannelEmail:
		return NormalizeEmail(v)
	case ChannelPhone, ChannelWhatsApp:
		return NormalizePhone(v, region)
	case ChannelLinkedIn:
		return NormalizeLinkedIn(v)
	case ChannelWebsite:
		return normalizeURL(v)
	case ChannelTelegram:
		return strings.ToLower(strings.TrimPrefix(v, "@")), nil
	case ChannelOther:
		return v, nil
	}
	return "", Invalid("channel", "%q is not a channel (use one of email, phone, linkedin, whatsapp, telegram, website, other)", string(ch))
}

// NormalizeEmail trims and lower-cases an address and checks its shape.
func NormalizeEmail(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return "", Invalid("value", "%q is not an e-mail address", v)
	}
	return v, nil
}

// NormalizePhone parses a phone number into E.164.
func NormalizePhone(v, region string) (string, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" && !strings.HasPrefix(strings.TrimSpace(v), "+") && !strings.HasPrefix(strings.TrimSpace(v), "00") {
		return "", Invalid("value", "%q has no country code; start it with + or set the customer's country", v)
	}
	if strings.HasPrefix(v, "00") {
		v = "+" + v[2:]
	}
	num, err := phonenumbers.Parse(v, region)
	if err != nil || !phonenumbers.IsValidNumber(num) { // (IsPossibleNumber let "12" through as a German number)
		return "", Invalid("value", "%q is not a phone number", v)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizeLinkedIn turns a profile link or bare slug into its canonical URL.
func NormalizeLinkedIn(v string) (string, error) {
	s := strings.TrimSpace(v)
	low := strings.ToLower(s)
	if !strings.Contains(low, "linkedin.com") && !strings.Contains(s, "/") {
		if linkedInSlug.MatchString(s) {
			return "https://www.linkedin.com/in/" + strings.ToLower(s), nil
		}
		return "", Invalid("value", "%q is not a LinkedIn profile", v)
	}
	if !strings.Contains(low, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || !strings.HasSuffix(strings.ToLower(u.Hostname()), "linkedin.com") {
		return "", Invalid("value", "%q is not a LinkedIn profile URL", v)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || (parts[0] != "in" && parts[0] != "pub") || !linkedInSlug.MatchString(parts[1]) {
		return "", Invalid("value", "%q is not a LinkedIn profile URL (expected linkedin.com/in/<name>)", v)
	}
	slug, _ := url.PathUnescape(parts[1])
	return "https://www.linkedin.com/in/" + strings.ToLower(slug), nil
}

func normalizeURL(v string) (string, error) {
	s := v
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.Contains(u.Host, ".") {
		return "", Invalid("value", "%q is not a web address", v)
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}
