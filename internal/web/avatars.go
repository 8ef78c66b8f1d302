package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Avatar serves a customer's picture from our own origin (GET
// /avatars/{hash}; see package avatars). Without a picture, or with Gravatar
// off, it answers 204 No Content: the image fails quietly (no console error,
// no 4xx) and the page keeps the initials under it. Signed-in users only, so
// that the server is no open proxy to Gravatar.
func (w *Web) Avatar(rw http.ResponseWriter, r *http.Request) {
	if w.Avatars == nil {
		rw.Header().Set("Cache-Control", "private, max-age=86400")
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	p, err := w.Avatars.Get(r.Context(), r.PathValue("hash"))
	switch {
	case crm.CodeOf(err) == crm.CodeNotFound:
		http.Error(rw, "No such picture.", http.StatusNotFound)
		return
	case err != nil && r.Context().Err() != nil:
		return // the browser left
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	// The browser keeps the answer as long as our cache does (at most a day,
	// so that a changed picture or CRM_GRAVATAR=off shows within a day).
	age := min(max(p.Until.Sub(w.Avatars.Now()), time.Minute), 24*time.Hour)
	rw.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(age/time.Second)))
	if p.Bytes == nil {
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	rw.Header().Set("Content-Type", p.ContentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(p.Bytes)))
	_, _ = rw.Write(p.Bytes)
}

// avatarSrc is the picture URL to put in a page: "" when Gravatar is off, so
// the page shows initials without asking for anything.
func (w *Web) avatarSrc(url string) string {
	if w.Avatars == nil || !w.Avatars.Enabled {
		return ""
	}
	return url
}
