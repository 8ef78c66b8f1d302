package crm

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // timezones validate the same on every machine

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Code is a code with its English name, for pickers ("Germany", "DE").
type CodeName struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ISO 3166-1 alpha-2 (all 249 assigned codes).
const countryCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
	"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

// ISO 639-1 (the two-letter language codes).
const languageCodes = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz " +
	"ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu " +
	"ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd " +
	"ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st " +
	"su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"

var codeTables = sync.OnceValues(func() (map[string]string, map[string]string) {
	countries := map[string]string{}
	regions := display.English.Regions()
	for _, c := range strings.Fields(countryCodes) {
		name := c
		if r, err := language.ParseRegion(c); err == nil {
			if n := regions.Name(r); n != "" {
				name = n
			}
		}
		countries[c] = name
	}
	langs := map[string]string{}
	names := display.English.Languages()
	for _, c := range strings.Fields(languageCodes) {
		name := c
		if t, err := language.Parse(c); err == nil {
			if n := names.Name(t); n != "" {
				name = n
			}
		}
		langs[c] = name
	}
	return countries, langs
})

// CountryName is the English name of an ISO 3166-1 alpha-2 code, or "" when unknown.
func CountryName(code string) string {
	c, _ := codeTables()
	return c[strings.ToUpper(code)]
}

// LanguageName is the English name of an ISO 639-1 code, or "" when unknown.
func LanguageName(code string) string {
	_, l := codeTables()
	return l[strings.ToLower(code)]
}

// Countries lists every country, by name.
func Countries() []CodeName { return slices.Clone(countriesByName()) }

// Languages lists every language, by name.
func Languages() []CodeName { return slices.Clone(languagesByName()) }

// the lists sorted once (every table page shows both)
var (
	countriesByName = sync.OnceValue(func() []CodeName { c, _ := codeTables(); return sortedCodes(c) })
	languagesByName = sync.OnceValue(func() []CodeName { _, l := codeTables(); return sortedCodes(l) })
)

func sortedCodes(m map[string]string) []CodeName {
	out := make([]CodeName, 0, len(m))
	for c, n := range m {
		out = append(out, CodeName{Code: c, Name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NormalizeCountry accepts a code in any case or an English name and returns the code.
func NormalizeCountry(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	c, _ := codeTables()
	if _, ok := c[strings.ToUpper(v)]; ok {
		return strings.ToUpper(v), nil
	}
	for code, name := range c {
		if strings.EqualFold(name, v) {
			return code, nil
		}
	}
	return "", Invalid("country", "%q is not a country (use an ISO 3166-1 code such as DE)", v)
}

// NormalizeLanguage accepts a code in any case or an English name and returns the code.
func NormalizeLanguage(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	_, l := codeTables()
	if _, ok := l[strings.ToLower(v)]; ok {
		return strings.ToLower(v), nil
	}
	for code, name := range l {
		if strings.EqualFold(name, v) {
			return code, nil
		}
	}
	return "", Invalid("language", "%q is not a language (use an ISO 639-1 code such as de)", v)
}

// NormalizeTimezone checks an IANA zone name.
func NormalizeTimezone(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if v == "Local" || strings.Contains(v, "..") {
		return "", Invalid("timezone", "%q is not a timezone (use an IANA name such as Europe/Berlin)", v)
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return "", Invalid("timezone", "%q is not a timezone (use an IANA name such as Europe/Berlin)", v)
	}
	return loc.String(), nil
}
