// Package obs carries what an operator needs to follow one request through
// the logs: a request id in the context, a slog handler that writes it on
// every line logged with that context, and the route pattern the request
// matched (for metrics labelled by route, never by raw path).
package obs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// ContextWithRequestID returns ctx carrying the request id.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// MaxRequestIDLen is the longest X-Request-ID taken from a client or proxy.
const MaxRequestIDLen = 64

// SaneRequestID reports whether an id from a request header may be used
// (and logged) as it is: 1 to 64 letters, digits and . _ - : characters
// only, so that no header can forge log lines or fill them.
func SaneRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == ':':
		default:
			return false
		}
	}
	return true
}

// NewRequestID makes a random request id (24 hex digits).
func NewRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler wraps a slog.Handler and adds request_id to every record logged
// with a context that carries one (slog.InfoContext and the like).
type Handler struct{ slog.Handler }

// Handle adds the request id of ctx, then hands the record on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the derived handler.
func (h Handler) WithAttrs(as []slog.Attr) slog.Handler { return Handler{h.Handler.WithAttrs(as)} }

// WithGroup keeps the wrapper around the derived handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }

// Log formats (CRM_LOG_FORMAT).
const (
	FormatText = "text"
	FormatJSON = "json"
)

// NewLogger builds the product's logger: text (key=value) or JSON lines on
// w from level (debug, info, warn, error), with request ids.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case FormatText, "":
		return slog.New(Handler{slog.NewTextHandler(w, opts)}), nil
	case FormatJSON:
		return slog.New(Handler{slog.NewJSONHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("log format %q is neither text nor json", format)
}

// route holds the pattern a request matched; set on the context before the
// muxes run, filled in by the innermost RecordPattern that saw a match.
type route struct{ pattern string }

// WithRoute returns ctx with an empty route holder and a function that
// reads it after the request was served ("" when no pattern matched).
func WithRoute(ctx context.Context) (context.Context, func() string) {
	h := &route{}
	return context.WithValue(ctx, routeKey, h), func() string { return h.pattern }
}

// RecordPattern wraps a ServeMux: the pattern it matched (r.Pattern, which
// the mux sets on the request it is given) is written into the route holder
// of the context unless a mux nested deeper (the API's, inside the page
// mux's "/api/") has already written a more precise one.
func RecordPattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if h, ok := r.Context().Value(routeKey).(*route); ok && h.pattern == "" && r.Pattern != "" {
				h.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}
