package customers

import "testing"

func TestFieldKeyFromLabel(t *testing.T) {
	for label, want := range map[string]string{
		"Contract tier":             "contract_tier",
		"  Contract   Tier (2026) ": "contract_tier_2026",
		"Café préféré":              "cafe_prefere",
		"2nd language":              "f_2nd_language",
		"NPS-Score / Q1":            "nps_score_q1",
		"日本語":                       "",
		"a very long label that goes on and on beyond forty":    "a_very_long_label_that_goes_on_and_on_be",
		"x___________________________________________________y": "x_y",
	} {
		if got := FieldKeyFromLabel(label); got != want || (got != "" && !fieldKeyRe.MatchString(got)) {
			t.Errorf("%q: got %q, want %q", label, got, want)
		}
	}
}
