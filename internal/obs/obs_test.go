package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/crm/internal/obs"
)

func TestLoggerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log, err := obs.NewLogger(&buf, "info", obs.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	ctx := obs.ContextWithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "first", "n", 1)
	log.With("part", "x").WithGroup("g").WarnContext(ctx, "second", "n", 2)
	log.Info("no context")
	log.DebugContext(ctx, "below the level")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		got = append(got, m)
	}
	if got[0]["request_id"] != "req-1" || got[0]["msg"] != "first" {
		t.Fatalf("first: %v", got[0])
	}
	// a derived logger keeps adding the id (inside its group)
	if g, _ := got[1]["g"].(map[string]any); g["request_id"] != "req-1" || got[1]["part"] != "x" {
		t.Fatalf("second: %v", got[1])
	}
	if _, has := got[2]["request_id"]; has {
		t.Fatalf("a line without a request context has an id: %v", got[2])
	}

	buf.Reset()
	text, err := obs.NewLogger(&buf, "debug", obs.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	text.DebugContext(ctx, "hello")
	if !strings.Contains(buf.String(), "request_id=req-1") || !strings.Contains(buf.String(), "level=DEBUG") {
		t.Fatalf("text: %s", buf.String())
	}
	if _, err := obs.NewLogger(&buf, "info", "xml"); err == nil {
		t.Fatal("xml accepted")
	}
}

func TestSaneRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc": true, "0123456789abcdef01234567": true, "a.b_c-d:e": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a b": false, "a\nb": false, "a=b": false, "ü": false, `"x"`: false,
	} {
		if obs.SaneRequestID(id) != want {
			t.Errorf("%q: want %v", id, want)
		}
	}
	if a, b := obs.NewRequestID(), obs.NewRequestID(); a == b || !obs.SaneRequestID(a) || len(a) != 24 {
		t.Fatalf("new ids %q %q", a, b)
	}
}

// RecordPattern: the innermost mux's pattern wins over the outer one's.
func TestRecordPattern(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /api/v1/things/{id}", func(http.ResponseWriter, *http.Request) {})
	outer := http.NewServeMux()
	outer.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// as the API does: a new request (context) before its own mux
		obs.RecordPattern(inner).ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), struct{}{}, 1)))
	}))
	outer.HandleFunc("GET /page/{id}", func(http.ResponseWriter, *http.Request) {})
	h := obs.RecordPattern(outer)
	for path, want := range map[string]string{"/api/v1/things/7": "GET /api/v1/things/{id}", "/api/v1/nothing": "/api/", "/page/9": "GET /page/{id}", "/elsewhere": ""} {
		ctx, route := obs.WithRoute(context.Background())
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil).WithContext(ctx))
		if route() != want {
			t.Errorf("%s: %q, want %q", path, route(), want)
		}
	}

}
