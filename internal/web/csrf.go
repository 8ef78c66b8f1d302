package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
)

const csrfKey = "csrf"

// csrfToken returns the session's form token, creating it on first use.
func (w *Web) csrfToken(r *http.Request) string {
	tok := w.Sessions.GetString(r.Context(), csrfKey)
	if tok == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		tok = base64.RawURLEncoding.EncodeToString(b)
		w.Sessions.Put(r.Context(), csrfKey, tok)
	}
	return tok
}

// ValidCSRF checks the form field csrf_token or the X-CSRF-Token header of a
// state-changing request against the session's token.
func (w *Web) ValidCSRF(r *http.Request) bool {
	want := w.Sessions.GetString(r.Context(), csrfKey)
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// CSRF refuses state-changing page requests without the session's form token
// (browsers' cross-origin checks are a separate layer in front of this one).
func (w *Web) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			r.Body = http.MaxBytesReader(rw, r.Body, 1<<20)
			// read the form here, so that a body over the limit is told as such
			// (and not as a missing token); forms of pages are small
			var tooLarge *http.MaxBytesError
			if err := r.ParseMultipartForm(1 << 20); errors.As(err, &tooLarge) {
				http.Error(rw, "The form is too large to send (at most 1 MB). Go back and shorten it.", http.StatusRequestEntityTooLarge)
				return
			}
			if !w.ValidCSRF(r) {
				http.Error(rw, "This form has expired. Go back, reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}
