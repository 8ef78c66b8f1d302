package web

import (
	"net/http"
	"strconv"
)

// ImportsView is the Imports page: the list of imports and the wizard
// (upload, map, preview, submit) with live progress, driven by imports.js
// over the JSON API.
type ImportsView struct {
	ImportID int64 // the import the URL names (/crm/imports/{id}), 0 for the list
}

// Imports shows the Imports page, or one import's wizard step or progress.
func (w *Web) Imports(rw http.ResponseWriter, r *http.Request) {
	var v ImportsView
	if s := r.PathValue("id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			w.NotFound(rw, r)
			return
		}
		v.ImportID = id
	}
	w.render(rw, r, http.StatusOK, "imports", Page{Title: "Imports", Nav: "imports", Content: v})
}
