package web

import (
	"errors"
	"net/http"

	"github.com/acme/crm/internal/crm"
)

// SegmentsView is the Segments page.
type SegmentsView struct {
	Segments []crm.Segment
	Errors   crm.FieldErrors
	NewName  string
	EditID   int64 // the segment whose rename was refused
	EditName string
}

// Segments lists the static segments with their member counts.
func (w *Web) Segments(rw http.ResponseWriter, r *http.Request) {
	w.segments(rw, r, http.StatusOK, SegmentsView{})
}

func (w *Web) segments(rw http.ResponseWriter, r *http.Request, status int, v SegmentsView) {
	var err error
	if v.Segments, err = w.Customers.Segments(r.Context()); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, r, status, "segments", Page{Title: "Segments", Nav: "segments", Content: v})
}

// CreateSegment adds a segment from the page's form.
func (w *Web) CreateSegment(rw http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	sg, err := w.Customers.CreateSegment(r.Context(), crm.UserFromContext(r.Context()), name)
	if err != nil {
		w.segmentRefused(rw, r, SegmentsView{NewName: name}, err)
		return
	}
	w.flash(r, "Created the segment “"+sg.Name+"”. Add customers from the table.")
	http.Redirect(rw, r, "/crm/segments", http.StatusSeeOther)
}

// RenameSegment renames a segment from the page.
func (w *Web) RenameSegment(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	name := r.PostFormValue("name")
	if _, err := w.Customers.RenameSegment(r.Context(), crm.UserFromContext(r.Context()), id, name); err != nil {
		w.segmentRefused(rw, r, SegmentsView{EditID: id, EditName: name}, err)
		return
	}
	w.flash(r, "Renamed.")
	http.Redirect(rw, r, "/crm/segments", http.StatusSeeOther)
}

func (w *Web) segmentRefused(rw http.ResponseWriter, r *http.Request, v SegmentsView, err error) {
	var de *crm.Error
	switch {
	case errors.Is(err, crm.ErrNotFound):
		w.NotFound(rw, r)
	case errors.As(err, &de) && de.Code == crm.CodeInvalid:
		v.Errors = crm.FieldErrors{de}
		w.segments(rw, r, http.StatusUnprocessableEntity, v)
	default:
		w.fail(rw, r, err)
	}
}
