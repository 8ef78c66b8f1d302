package customers

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// MaxCustomText bounds a text custom value.
const MaxCustomText = 5000

// CustomValue checks a value against its field's type and returns the JSON
// text to store (nil clears the value). Strings are accepted for every type,
// as forms and CSV files send them.
func CustomValue(f crm.CustomField, v any) (*string, error) {
	bad := func(format string, args ...any) error {
		return crm.Invalid("custom."+f.Key, "%s: %s", f.Label, fmt.Sprintf(format, args...))
	}
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		v = s
	}
	var out any
	switch f.Type {
	case crm.FieldText:
		s, ok := v.(string)
		if !ok {
			return nil, bad("expected text")
		}
		if len([]rune(s)) > MaxCustomText {
			return nil, bad("longer than %d characters", MaxCustomText)
		}
		out = s
	case crm.FieldNumber:
		switch x := v.(type) {
		case float64:
			out = x
		case json.Number:
			n, err := x.Float64()
			if err != nil {
				return nil, bad("%q is not a number", x)
			}
			out = n
		case string:
			n, err := strconv.ParseFloat(strings.ReplaceAll(x, ",", "."), 64)
			if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
				return nil, bad("%q is not a number", x)
			}
			out = n
		default:
			return nil, bad("expected a number")
		}
	case crm.FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, bad("expected a date (YYYY-MM-DD)")
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, bad("%q is not a date (use YYYY-MM-DD)", s)
		}
		out = s
	case crm.FieldBoolean:
		switch x := v.(type) {
		case bool:
			out = x
		case string:
			switch strings.ToLower(x) {
			case "true", "yes", "1", "on":
				out = true
			case "false", "no", "0", "off":
				out = false
			default:
				return nil, bad("%q is not yes or no", x)
			}
		default:
			return nil, bad("expected true or false")
		}
	case crm.FieldSelect:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Options, s) {
			return nil, bad("%v is not one of %s", v, strings.Join(f.Options, ", "))
		}
		out = s
	case crm.FieldMultiselect:
		var vals []string
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, bad("expected a list of options")
				}
				vals = append(vals, s)
			}
		case []string:
			vals = x
		case string:
			vals = strings.FieldsFunc(x, func(r rune) bool { return r == ';' || r == ',' })
		default:
			return nil, bad("expected a list of options")
		}
		clean := []string{}
		for _, s := range vals {
			s = strings.TrimSpace(s)
			if s == "" || slices.Contains(clean, s) {
				continue
			}
			if !slices.Contains(f.Options, s) {
				return nil, bad("%q is not one of %s", s, strings.Join(f.Options, ", "))
			}
			clean = append(clean, s)
		}
		if len(clean) == 0 {
			return nil, nil
		}
		out = clean
	case crm.FieldURL:
		s, ok := v.(string)
		if !ok {
			return nil, bad("expected a web address")
		}
		if !strings.Contains(s, "://") {
			s = "https://" + s
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.Contains(u.Host, ".") || len(s) > 2000 {
			return nil, bad("%q is not a web address", v)
		}
		out = u.String()
	default:
		return nil, bad("unknown field type %s", f.Type)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	str := string(b)
	return &str, nil
}

func jsonValue(s string) any {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
