package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// MaxBodyBytes bounds every form and JSON body (as huma's default does for
// the API); the import upload, a multipart body, has its own limit.
const MaxBodyBytes = 1 << 20

// TextProblem is crm.TextProblem: NUL and invalid UTF-8 are refused.
var TextProblem = crm.TextProblem

// checkInput refuses a request whose path, query parameters, form fields or
// JSON strings hold invalid text, with a 400 naming the field, before any
// handler or database sees it; and a form or JSON body over MaxBodyBytes
// with a 413.
func checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/api/")
		if p := TextProblem(r.URL.Path); p != "" {
			badInput(w, api, "path", p)
			return
		}
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil { // a malformed query is the handler's to refuse
			if f, p := valuesProblem(q); p != "" {
				badInput(w, api, f, p)
				return
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case ct == "multipart/form-data":
			// uploads: each handler bounds its own (the import takes up to 1 GiB)
		case ct == "application/x-www-form-urlencoded":
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			if err := r.ParseForm(); err != nil {
				if tooLarge(err) {
					bodyTooLarge(w, api)
				} else {
					badInput(w, api, "body", "is not a readable form")
				}
				return
			}
			if f, p := valuesProblem(r.PostForm); p != "" {
				badInput(w, api, f, p)
				return
			}
		case api: // JSON, whatever the request calls it (huma reads JSON without a Content-Type)
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			if err != nil {
				if tooLarge(err) {
					bodyTooLarge(w, api)
				} else {
					badInput(w, api, "body", "could not be read")
				}
				return
			}
			if f, p := jsonProblem(b); p != "" {
				badInput(w, api, f, p)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// valuesProblem checks every key and value, in key order so that the answer
// does not depend on map order.
func valuesProblem(v url.Values) (field, problem string) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if p := TextProblem(k); p != "" {
			return "a parameter name", p
		}
		for _, s := range v[k] {
			if p := TextProblem(s); p != "" {
				return k, p
			}
		}
	}
	return "", ""
}

// jsonProblem walks a JSON document and names the first string (value or
// key) holding invalid text, as name, parent.name or list[2].name. A
// document that is not JSON is left to the handler, which says why.
func jsonProblem(b []byte) (field, problem string) {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func() string {
		var sb strings.Builder
		for _, f := range stack {
			if f.array {
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(f.key)
		}
		if sb.Len() == 0 {
			return "body"
		}
		return sb.String()
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.array {
			f.index++
		} else {
			f.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			if err != io.EOF && !utf8.Valid(b) {
				return "body", "is not valid UTF-8 text"
			}
			return "", ""
		}
		// the bytes since the last token: separators (ASCII) and this token,
		// as sent: the decoder has already replaced invalid UTF-8 in tok
		raw := b[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{wantKey: true})
			case '[':
				stack = append(stack, &frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			p := TextProblem(t)
			if p == "" && !utf8.Valid(raw) {
				p = "is not valid UTF-8 text"
			}
			if top := len(stack) - 1; top >= 0 && !stack[top].array && stack[top].wantKey {
				if p != "" { // name the object whose key it is
					stack = stack[:top]
					return path(), "has a key that " + p
				}
				stack[top].key, stack[top].wantKey = t, false
				continue
			}
			if p != "" {
				return path(), p
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// badInput answers 400 naming the field: JSON under /api/, text for pages.
func badInput(w http.ResponseWriter, api bool, field, problem string) {
	if api {
		writeJSONError(w, http.StatusBadRequest, "invalid", field+": "+problem, field)
		return
	}
	http.Error(w, fmt.Sprintf("The field %q %s. Go back and correct it.", field, problem), http.StatusBadRequest)
}

func bodyTooLarge(w http.ResponseWriter, api bool) {
	msg := fmt.Sprintf("The request is too large: at most %d KB.", MaxBodyBytes>>10)
	if api {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large", msg, "")
		return
	}
	http.Error(w, "The form is too large to send (at most 1 MB). Go back and shorten it.", http.StatusRequestEntityTooLarge)
}

// writeJSONError writes the API's error shape ({"error": {code, message, field}}).
func writeJSONError(w http.ResponseWriter, status int, code, msg, field string) {
	type detail struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	body := struct {
		Error struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Field   string   `json:"field,omitempty"`
			Fields  []detail `json:"fields,omitempty"`
		} `json:"error"`
	}{}
	body.Error.Code, body.Error.Message, body.Error.Field = code, msg, field
	if field != "" {
		body.Error.Fields = []detail{{Field: field, Message: strings.TrimPrefix(msg, field+": ")}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
