package customers

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Record limits.
const (
	MaxTitle = 200
	MaxBody  = 20000
)

// DealInput is a new or edited deal; nil fields are left alone on edit.
type DealInput struct {
	Title    *string
	Amount   *int64 // minor units
	Currency *string
	Stage    *string
}

func checkDeal(d *crm.Deal, in DealInput) error {
	var fe crm.FieldErrors
	if in.Title != nil {
		if err := crm.CheckText("title", *in.Title); err != nil {
			return err
		}
		d.Title = strings.TrimSpace(*in.Title)
	}
	if in.Amount != nil {
		d.Amount = *in.Amount
	}
	if in.Currency != nil {
		d.Currency = strings.ToUpper(strings.TrimSpace(*in.Currency))
	}
	if in.Stage != nil {
		d.Stage = strings.TrimSpace(*in.Stage)
	}
	if d.Title == "" || utf8.RuneCountInString(d.Title) > MaxTitle {
		fe.Add("title", "Enter a title of at most %d characters.", MaxTitle)
	}
	if d.Amount < 0 || d.Amount > 1e15 {
		fe.Add("amount", "Enter an amount from 0 up.")
	}
	if len(d.Currency) != 3 || strings.ToUpper(d.Currency) != d.Currency {
		fe.Add("currency", "Use a three-letter currency code such as EUR.")
	}
	if !slices.Contains(crm.DealStages, d.Stage) {
		fe.Add("stage", "Use one of %s.", strings.Join(crm.DealStages, ", "))
	}
	return fe.Err()
}

// AddDeal adds a deal to a customer.
func (s *Service) AddDeal(ctx context.Context, actor *crm.User, customerID int64, in DealInput) (*crm.Deal, error) {
	// the customer is checked (found, not merged away) and locked in the write's transaction
	d := &crm.Deal{CustomerID: customerID, Currency: "EUR", Stage: "lead", AuthorID: &actor.ID}
	if err := checkDeal(d, in); err != nil {
		return nil, err
	}
	now := s.now()
	d.CreatedAt = now
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		if _, err := writable(ctx, tx, customerID); err != nil {
			return err
		}
		if err := tx.CreateDeal(ctx, d); err != nil {
			return err
		}
		return log(ctx, tx, actor, customerID, crm.ActDealAdded, map[string]any{"title": d.Title, "amount": d.Amount, "currency": d.Currency}, now)
	})
	return d, err
}

// EditDeal changes a deal.
func (s *Service) EditDeal(ctx context.Context, actor *crm.User, id int64, in DealInput) (*crm.Deal, error) {
	d, err := s.Store.GetDeal(ctx, id)
	if err != nil {
		return nil, err
	}
	old := *d
	if err := checkDeal(d, in); err != nil {
		return nil, err
	}
	now := s.now()
	d.UpdatedAt = now
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.UpdateDeal(ctx, d); err != nil {
			return err
		}
		return log(ctx, tx, actor, d.CustomerID, crm.ActUpdated, map[string]any{"field": "deal", "title": d.Title,
			"from": map[string]any{"stage": old.Stage, "amount": old.Amount}, "to": map[string]any{"stage": d.Stage, "amount": d.Amount}}, now)
	})
	return d, err
}

func checkBody(body string) (string, error) {
	if err := crm.CheckText("body", body); err != nil {
		return "", err
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return "", crm.Invalid("body", "Write something.")
	}
	if utf8.RuneCountInString(body) > MaxBody {
		return "", crm.Invalid("body", "Use at most %d characters.", MaxBody)
	}
	return body, nil
}

// AddNote adds a note to a customer.
func (s *Service) AddNote(ctx context.Context, actor *crm.User, customerID int64, body string) (*crm.Note, error) {
	// the customer is checked (found, not merged away) and locked in the write's transaction
	body, err := checkBody(body)
	if err != nil {
		return nil, err
	}
	now := s.now()
	n := &crm.Note{CustomerID: customerID, Body: body, AuthorID: &actor.ID, CreatedAt: now}
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if _, err := writable(ctx, tx, customerID); err != nil {
			return err
		}
		if err := tx.CreateNote(ctx, n); err != nil {
			return err
		}
		return log(ctx, tx, actor, customerID, crm.ActNoteAdded, map[string]any{"excerpt": excerpt(body)}, now)
	})
	return n, err
}

// EditNote changes a note's text.
func (s *Service) EditNote(ctx context.Context, actor *crm.User, id int64, body string) (*crm.Note, error) {
	n, err := s.Store.GetNote(ctx, id)
	if err != nil {
		return nil, err
	}
	if n.Body, err = checkBody(body); err != nil {
		return nil, err
	}
	now := s.now()
	n.UpdatedAt = now
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.UpdateNote(ctx, n); err != nil {
			return err
		}
		return log(ctx, tx, actor, n.CustomerID, crm.ActUpdated, map[string]any{"field": "note", "to": excerpt(n.Body)}, now)
	})
	return n, err
}

func excerpt(s string) string {
	r := []rune(s)
	if len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// TaskInput is a new or edited task.
type TaskInput struct {
	Title *string
	Due   **time.Time // set to a nil *time.Time to clear
	Done  *bool
}

// AddTask adds a task to a customer.
func (s *Service) AddTask(ctx context.Context, actor *crm.User, customerID int64, in TaskInput) (*crm.Task, error) {
	// the customer is checked (found, not merged away) and locked in the write's transaction
	now := s.now()
	t := &crm.Task{CustomerID: customerID, AuthorID: &actor.ID, CreatedAt: now}
	if err := applyTask(t, in, now); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		if _, err := writable(ctx, tx, customerID); err != nil {
			return err
		}
		if err := tx.CreateTask(ctx, t); err != nil {
			return err
		}
		return log(ctx, tx, actor, customerID, crm.ActTaskAdded, map[string]any{"title": t.Title, "due": t.Due}, now)
	})
	return t, err
}

func applyTask(t *crm.Task, in TaskInput, now time.Time) error {
	if in.Title != nil {
		if err := crm.CheckText("title", *in.Title); err != nil {
			return err
		}
		t.Title = strings.TrimSpace(*in.Title)
	}
	if t.Title == "" || utf8.RuneCountInString(t.Title) > MaxTitle {
		return crm.Invalid("title", "Enter a title of at most %d characters.", MaxTitle)
	}
	if in.Due != nil {
		t.Due = *in.Due
	}
	if in.Done != nil {
		switch {
		case *in.Done && t.DoneAt == nil:
			t.DoneAt = &now
		case !*in.Done:
			t.DoneAt = nil
		}
	}
	return nil
}

// EditTask changes a task (title, due date, done).
func (s *Service) EditTask(ctx context.Context, actor *crm.User, id int64, in TaskInput) (*crm.Task, error) {
	t, err := s.Store.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	wasDone := t.DoneAt != nil
	now := s.now()
	if err := applyTask(t, in, now); err != nil {
		return nil, err
	}
	t.UpdatedAt = now
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.UpdateTask(ctx, t); err != nil {
			return err
		}
		data := map[string]any{"field": "task", "title": t.Title}
		if done := t.DoneAt != nil; done != wasDone {
			data["done"] = done
		}
		return log(ctx, tx, actor, t.CustomerID, crm.ActUpdated, data, now)
	})
	return t, err
}

// Records is what the "Deals, notes & tasks" tab shows.
type Records struct {
	Deals []crm.Deal `json:"deals"`
	Notes []crm.Note `json:"notes"`
	Tasks []crm.Task `json:"tasks"`
}

// ListRecords returns a customer's deals, notes and tasks.
func (s *Service) ListRecords(ctx context.Context, customerID int64) (*Records, error) {
	var r Records
	var err error
	if r.Deals, err = s.Store.ListDeals(ctx, customerID); err != nil {
		return nil, err
	}
	if r.Notes, err = s.Store.ListNotes(ctx, customerID); err != nil {
		return nil, err
	}
	r.Tasks, err = s.Store.ListTasks(ctx, customerID)
	return &r, err
}
