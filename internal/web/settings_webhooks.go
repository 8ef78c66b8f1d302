package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/webhooks"
)

// WebhooksView is the Webhooks section of Settings (admins).
type WebhooksView struct {
	Endpoints []*webhooks.Endpoint
	Types     []string
	// NewSecret is the secret of the endpoint just added, shown once.
	NewSecret   string
	NewSecretID int64
	// Checked are the event boxes of the add form (what was ticked when it was refused).
	Checked map[string]bool
}

// Disabled lists the endpoints the system turned off (failing for 24 hours).
func (v *WebhooksView) Disabled() []*webhooks.Endpoint {
	var out []*webhooks.Endpoint
	for _, e := range v.Endpoints {
		if !e.Enabled && e.DisabledReason != "" {
			out = append(out, e)
		}
	}
	return out
}

// EventLabel is how Settings names an event type.
func (WebhooksView) EventLabel(t string) string {
	return strings.NewReplacer(".", " ", "customer ", "Customer ", "contact ", "Contact ", "import ", "Import ", "bulk ", "Bulk action ").Replace(t)
}

// loadWebhooks fills the Webhooks section for admins.
func (w *Web) loadWebhooks(ctx context.Context, u *crm.User, v *SettingsView) error {
	if w.Webhooks == nil || !u.IsAdmin() {
		return nil
	}
	if v.Webhooks == nil {
		v.Webhooks = &WebhooksView{}
	}
	v.Webhooks.Types = webhooks.Types
	var err error
	v.Webhooks.Endpoints, err = w.Webhooks.List(ctx, u)
	return err
}

// AddWebhook registers an endpoint from Settings; its secret is shown once.
func (w *Web) AddWebhook(rw http.ResponseWriter, r *http.Request) {
	if !parseForm(rw, r) {
		return
	}
	url, secret := strings.TrimSpace(r.PostFormValue("url")), r.PostFormValue("secret")
	events := r.PostForm["events"]
	e, err := w.Webhooks.Create(r.Context(), crm.UserFromContext(r.Context()), webhooks.Input{URL: &url, Events: &events, Secret: &secret})
	if err != nil {
		checked := map[string]bool{}
		for _, ev := range events {
			checked[ev] = true
		}
		f := FormState{Kind: "webhook", Values: map[string]string{"url": url}} // never the secret
		w.settingsRefused(rw, r, SettingsView{Form: f, Webhooks: &WebhooksView{Checked: checked}}, "webhooks", err)
		return
	}
	w.Sessions.Put(r.Context(), "webhook_secret", e.Secret)
	w.Sessions.Put(r.Context(), "webhook_secret_id", strconv.FormatInt(e.ID, 10))
	w.flash(r, "Webhook endpoint added. Deliveries start with the next change.")
	http.Redirect(rw, r, "/settings#webhooks", http.StatusSeeOther)
}

// ChangeWebhook enables or disables an endpoint (enabled=true|false).
func (w *Web) ChangeWebhook(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	if !parseForm(rw, r) {
		return
	}
	on := r.PostFormValue("enabled") == "true"
	e, err := w.Webhooks.Update(r.Context(), crm.UserFromContext(r.Context()), id, webhooks.Input{Enabled: &on})
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{}, "webhooks", err)
		return
	}
	if on {
		w.flash(r, fmt.Sprintf("%s is enabled: it gets new events again.", e.URL))
	} else {
		w.flash(r, fmt.Sprintf("%s is disabled: it gets no events until you enable it.", e.URL))
	}
	http.Redirect(rw, r, "/settings#webhooks", http.StatusSeeOther)
}

// DeleteWebhook removes an endpoint and its delivery log.
func (w *Web) DeleteWebhook(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	if err := w.Webhooks.Delete(r.Context(), crm.UserFromContext(r.Context()), id); err != nil {
		w.settingsRefused(rw, r, SettingsView{}, "webhooks", err)
		return
	}
	w.flash(r, "Webhook endpoint deleted, with its delivery log.")
	http.Redirect(rw, r, "/settings#webhooks", http.StatusSeeOther)
}

// WebhookLogView is the delivery log page of one endpoint.
type WebhookLogView struct {
	Endpoint   *webhooks.Endpoint
	Deliveries []webhooks.Delivery
	Secret     string // shown after "Show secret"
	Before     int64  // the next (older) page starts before this id; 0 = no more
}

const webhookLogPage = 50

// WebhookLog shows an endpoint's deliveries, newest first.
func (w *Web) WebhookLog(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	ctx, u := r.Context(), crm.UserFromContext(r.Context())
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	v := WebhookLogView{}
	var err error
	if v.Endpoint, err = w.Webhooks.Get(ctx, u, id); err == nil {
		v.Deliveries, err = w.Webhooks.Deliveries(ctx, u, id, before, webhookLogPage)
	}
	if err != nil {
		w.webhookRefused(rw, r, err)
		return
	}
	if len(v.Deliveries) == webhookLogPage {
		v.Before = v.Deliveries[len(v.Deliveries)-1].ID
	}
	if w.Sessions.PopString(ctx, "webhook_reveal") == strconv.FormatInt(id, 10) {
		if v.Secret, err = w.Webhooks.RevealSecret(ctx, u, id); err != nil {
			w.fail(rw, r, err)
			return
		}
	}
	w.render(rw, r, http.StatusOK, "webhook", Page{Title: "Webhook deliveries", Nav: "settings", Content: v})
}

// RevealWebhookSecret shows the endpoint's secret once on its log page.
func (w *Web) RevealWebhookSecret(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	if _, err := w.Webhooks.Get(r.Context(), crm.UserFromContext(r.Context()), id); err != nil {
		w.webhookRefused(rw, r, err)
		return
	}
	w.Sessions.Put(r.Context(), "webhook_reveal", strconv.FormatInt(id, 10))
	http.Redirect(rw, r, fmt.Sprintf("/settings/webhooks/%d#secret", id), http.StatusSeeOther)
}

// ResendWebhook sends a delivery again, with the same event id.
func (w *Web) ResendWebhook(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	delivery, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if !ok || err != nil {
		w.NotFound(rw, r)
		return
	}
	if err := w.Webhooks.Resend(r.Context(), crm.UserFromContext(r.Context()), id, delivery); err != nil {
		w.webhookRefused(rw, r, err)
		return
	}
	w.flash(r, "Sending it again, with the same event id. Its new attempt shows here in a moment.")
	http.Redirect(rw, r, fmt.Sprintf("/settings/webhooks/%d", id), http.StatusSeeOther)
}

func (w *Web) webhookRefused(rw http.ResponseWriter, r *http.Request, err error) {
	switch crm.CodeOf(err) {
	case crm.CodeNotFound:
		w.NotFound(rw, r)
	case crm.CodeForbidden:
		http.Error(rw, "Only admins manage webhooks.", http.StatusForbidden)
	default:
		w.fail(rw, r, err)
	}
}

// WebhookRoutes registers the Webhooks pages and forms; page wraps a handler
// for signed-in users with CSRF checks.
func (w *Web) WebhookRoutes(mux *http.ServeMux, page func(http.HandlerFunc) http.Handler) {
	mux.Handle("POST /settings/webhooks", page(w.AddWebhook))
	mux.Handle("GET /settings/webhooks/{id}", page(w.WebhookLog))
	mux.Handle("POST /settings/webhooks/{id}", page(w.ChangeWebhook))
	mux.Handle("POST /settings/webhooks/{id}/delete", page(w.DeleteWebhook))
	mux.Handle("POST /settings/webhooks/{id}/secret", page(w.RevealWebhookSecret))
	mux.Handle("POST /settings/webhooks/{id}/deliveries/{delivery}/resend", page(w.ResendWebhook))
}
