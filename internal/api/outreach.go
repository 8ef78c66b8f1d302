package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/jobs"
)

type sendIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Channel   crm.Channel `json:"channel" enum:"email" doc:"only e-mail is sent by the product"`
		Subject   string      `json:"subject" maxLength:"300"`
		Body      string      `json:"body" maxLength:"100000"`
		ContactID int64       `json:"contact_id,omitempty" doc:"which e-mail contact; default the primary"`
	}
}

type sendOut struct {
	Body struct {
		Message *crm.Message `json:"message"`
		Status  string       `json:"status" doc:"sent, outbox (no SMTP configured: not delivered) or failed"`
		Error   string       `json:"error,omitempty"`
	}
}

func (a *apiServer) sendManual(ctx context.Context, in *sendIn) (*sendOut, error) {
	out, err := a.Outreach.SendManual(ctx, caller(ctx), in.ID, in.Body.ContactID, in.Body.Subject, in.Body.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	res := &sendOut{}
	res.Body.Message, res.Body.Status, res.Body.Error = out.Message, out.Status, out.Error
	return res, nil
}

type segmentSendIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Subject string `json:"subject" maxLength:"300"`
		Body    string `json:"body" maxLength:"100000"`
	}
}

// JobRef is the answer of work started in the background.
type JobRef struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

type jobStarted struct {
	Body struct {
		Job JobRef `json:"job"`
	}
}

func (a *apiServer) sendSegment(ctx context.Context, in *segmentSendIn) (*jobStarted, error) {
	if _, err := a.Store.GetSegment(ctx, in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	var fe crm.FieldErrors
	if strings.TrimSpace(in.Body.Subject) == "" {
		fe.Add("subject", "Write a subject.")
	}
	if strings.TrimSpace(in.Body.Body) == "" {
		fe.Add("body", "Write a message.")
	}
	if err := fe.Err(); err != nil {
		return nil, a.fail(ctx, err)
	}
	id, err := a.Jobs.Insert(ctx, jobs.SegmentSend{SegmentID: in.ID, Subject: in.Body.Subject, Body: in.Body.Body, UserID: caller(ctx).ID})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &jobStarted{}
	out.Body.Job = JobRef{ID: id, Status: jobs.Queued}
	return out, nil
}

type jobOut struct{ Body *jobs.Job }

func (a *apiServer) getJob(ctx context.Context, in *idIn) (*jobOut, error) {
	j, err := a.Jobs.Get(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if me := caller(ctx); j.UserID != me.ID && !me.IsAdmin() {
		return nil, a.fail(ctx, crm.NotFound("job")) // someone else's job: as if it did not exist
	}
	if err := jobs.WithCheckpoint(ctx, a.Store, j); err != nil {
		return nil, a.fail(ctx, err)
	}
	if err := a.withUndo(ctx, j); err != nil {
		return nil, a.fail(ctx, err)
	}
	return &jobOut{Body: j}, nil
}

type jobCancelOut struct {
	Status int
	Body   *jobs.Job
}

// cancelJob stops a background job of the caller's (any job, for an admin):
// 200 when it is canceled now, 202 when it runs and stops after its current
// chunk, 409 when it has ended. An import job cancels its import too.
func (a *apiServer) cancelJob(ctx context.Context, in *idIn) (*jobCancelOut, error) {
	me := caller(ctx)
	j, err := a.Jobs.Get(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if j.UserID != me.ID && !me.IsAdmin() {
		return nil, a.fail(ctx, crm.NotFound("job")) // someone else's job: as if it did not exist
	}
	if j.ImportID != 0 && !j.Ended() && a.Imports != nil {
		if _, err := a.Imports.Cancel(ctx, me, j.ImportID); err != nil && !errors.Is(err, crm.ErrConflict) {
			return nil, a.fail(ctx, err)
		}
	}
	j, err = a.Jobs.Cancel(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &jobCancelOut{Status: http.StatusAccepted, Body: j}
	if j.Status == jobs.Canceled {
		out.Status = http.StatusOK
	}
	return out, nil
}

type messageIn struct {
	Body struct {
		Direction crm.Direction `json:"direction" enum:"inbound,outbound"`
		Channel   crm.Channel   `json:"channel" enum:"email,phone,linkedin,whatsapp,telegram,website,other"`
		From      string        `json:"from,omitempty" maxLength:"500" doc:"the sender's contact value (inbound)"`
		To        string        `json:"to,omitempty" maxLength:"500" doc:"the recipient's contact value (outbound, sent elsewhere)"`
		Subject   string        `json:"subject,omitempty" maxLength:"300"`
		Body      string        `json:"body,omitempty" maxLength:"100000"`
	}
}

type messagesOut struct {
	Body struct {
		Items []crm.Message `json:"items" doc:"one per customer the address belongs to"`
	}
}

func (a *apiServer) recordMessage(ctx context.Context, in *messageIn) (*messagesOut, error) {
	addr := in.Body.From
	if in.Body.Direction == crm.Outbound {
		addr = in.Body.To
	}
	ms, err := a.Outreach.Record(ctx, caller(ctx), in.Body.Direction, in.Body.Channel, addr, in.Body.Subject, in.Body.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &messagesOut{}
	out.Body.Items = ms
	return out, nil
}

type emailEventIn struct {
	Authorization string `header:"Authorization" doc:"Bearer CRM_WEBHOOK_TOKEN"`
	Body          struct {
		Email string `json:"email" maxLength:"320"`
		Type  string `json:"type" enum:"bounce,complaint"`
	}
}

type emailEventOut struct {
	Body struct {
		Suppressed int `json:"suppressed" doc:"contacts that hold the address this event suppressed (0 when it already was; the address is suppressed even when no contact holds it)"`
	}
}

// emailEvent is the mail provider's webhook: its own token, no user.
func (a *apiServer) emailEvent(ctx context.Context, in *emailEventIn) (*emailEventOut, error) {
	if a.WebhookToken == "" {
		return nil, &ErrorBody{status: http.StatusServiceUnavailable, Err: ErrorDetail{Code: "unavailable",
			Message: "The e-mail event webhook is off: set CRM_WEBHOOK_TOKEN to turn it on."}}
	}
	tok, ok := BearerToken(in.Authorization)
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(a.WebhookToken)) != 1 {
		return nil, &ErrorBody{status: http.StatusUnauthorized, Err: ErrorDetail{Code: string(crm.CodeUnauthorized),
			Message: "Send the webhook token: Authorization: Bearer <CRM_WEBHOOK_TOKEN>."}}
	}
	n, err := a.Outreach.EmailEvent(ctx, in.Body.Email, in.Body.Type)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &emailEventOut{}
	out.Body.Suppressed = n
	return out, nil
}
