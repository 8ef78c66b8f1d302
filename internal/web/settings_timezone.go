package web

import (
	"net/http"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// SaveTimezone keeps the time zone the user reads times in (a preference of
// their own); empty means the browser's.
func (w *Web) SaveTimezone(rw http.ResponseWriter, r *http.Request) {
	u := crm.UserFromContext(r.Context())
	name := strings.TrimSpace(r.PostFormValue("timezone"))
	if name != "" {
		if _, ok := loadZone(name); !ok {
			v := SettingsView{TimezoneError: "“" + truncate(name, 64) + "” is not a time zone. Pick one from the list, such as Europe/Berlin."}
			w.settings(rw, r, http.StatusUnprocessableEntity, v)
			return
		}
	}
	if err := w.Store.SetUserPref(r.Context(), u.ID, prefTimezone, name); err != nil {
		w.fail(rw, r, err)
		return
	}
	if name == "" {
		w.flash(r, "Times are shown in your browser's time zone.")
	} else {
		w.flash(r, "Times are shown in "+name+".")
	}
	http.Redirect(rw, r, "/settings#account", http.StatusSeeOther)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
