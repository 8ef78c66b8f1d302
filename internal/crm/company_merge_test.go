package crm

import "testing"

// The loose name and the domain that possible duplicate companies compare.
func TestCompanyKeys(t *testing.T) {
	for in, want := range map[string]string{
		"ACME, Inc.":           "acme",
		"Acme Corp":            "acme",
		"Acmé GmbH & Co. KG":   "acme",
		"The Acme Company Ltd": "acme",
		"acme s.a.":            "acme",
		"Acme SARL":            "acme",
		"Acme B.V.":            "acme",
		"Weiß AG":              "weiss",
		"Acme Systems LLC":     "acme systems",
		"Co":                   "co", // nothing but a legal form: kept
		"  Ltd. ":              "ltd",
		"Procter & Gamble":     "procter and gamble",
		"Acme Group":           "acme group",
		"":                     "",
	} {
		if got := CompanyNameKey(in); got != want {
			t.Errorf("CompanyNameKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"acme.com":                       "acme.com",
		"https://WWW.Acme.com/about?x=1": "acme.com",
		"www.acme.com.":                  "acme.com",
		"acme.com:8080":                  "acme.com",
		"sales@acme.com":                 "acme.com",
		"":                               "",
	} {
		if got := CompanyDomainKey(in); got != want {
			t.Errorf("CompanyDomainKey(%q) = %q, want %q", in, got, want)
		}
	}
}
