package customers

import (
	"context"
	"errors"

	"github.com/acme/crm/internal/crm"
)

// Ownership actions (SPEC section 4).
const (
	ActionClaim    = "claim"
	ActionUnclaim  = "unclaim"
	ActionRelease  = "release"
	ActionReassign = "reassign"
	ActionArchive  = "archive"
	ActionRestore  = "restore"
)

func ref(u *crm.User) *crm.UserRef {
	if u == nil {
		return nil
	}
	return &crm.UserRef{ID: u.ID, Name: u.Name, Email: u.Email}
}

// Get returns one customer whole.
func (s *Service) Get(ctx context.Context, id int64) (*crm.Customer, error) {
	return s.Store.GetCustomer(ctx, id)
}

// Claim makes the caller the owner of an unclaimed customer. Of several
// simultaneous claims exactly one wins; the others are told who did.
func (s *Service) Claim(ctx context.Context, actor *crm.User, id int64) (*crm.Customer, error) {
	return s.changeOwner(ctx, actor, id, ActionClaim, func(c *crm.Customer) (*int64, crm.OwnerExpectation, error) {
		if c.Owner != nil {
			if c.Owner.ID == actor.ID {
				return nil, crm.OwnerExpectation{}, crm.Conflict("You already own %s.", c.FullName)
			}
			return nil, crm.OwnerExpectation{}, crm.Conflict("%s is already owned by %s.", c.FullName, c.Owner.Name)
		}
		return &actor.ID, crm.OwnerExpectation{}, nil
	})
}

// Unclaim gives up the caller's own customer.
func (s *Service) Unclaim(ctx context.Context, actor *crm.User, id int64) (*crm.Customer, error) {
	return s.changeOwner(ctx, actor, id, ActionUnclaim, func(c *crm.Customer) (*int64, crm.OwnerExpectation, error) {
		if c.Owner == nil {
			return nil, crm.OwnerExpectation{}, crm.Conflict("%s is not claimed by anyone.", c.FullName)
		}
		if c.Owner.ID != actor.ID {
			return nil, crm.OwnerExpectation{}, crm.Forbidden("Only the owner can unclaim; %s is owned by %s.", c.FullName, c.Owner.Name)
		}
		return nil, crm.OwnerExpectation{UserID: &actor.ID}, nil
	})
}

// Release removes any owner (admins only).
func (s *Service) Release(ctx context.Context, actor *crm.User, id int64) (*crm.Customer, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can release a customer; the owner can unclaim it.")
	}
	return s.changeOwner(ctx, actor, id, ActionRelease, func(c *crm.Customer) (*int64, crm.OwnerExpectation, error) {
		if c.Owner == nil {
			return nil, crm.OwnerExpectation{}, errUnchanged
		}
		return nil, crm.OwnerExpectation{UserID: &c.Owner.ID}, nil
	})
}

// Reassign gives the customer to another active user (admins only).
func (s *Service) Reassign(ctx context.Context, actor *crm.User, id, to int64) (*crm.Customer, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can reassign a customer.")
	}
	target, err := s.Store.GetUser(ctx, to)
	if errors.Is(err, crm.ErrNotFound) {
		return nil, crm.Invalid("user_id", "No user has the id %d.", to)
	}
	if err != nil {
		return nil, err
	}
	if !target.Active {
		return nil, crm.Invalid("user_id", "%s is deactivated and cannot own customers.", target.Name)
	}
	return s.changeOwner(ctx, actor, id, ActionReassign, func(c *crm.Customer) (*int64, crm.OwnerExpectation, error) {
		if c.Owner != nil && c.Owner.ID == to {
			return nil, crm.OwnerExpectation{}, errUnchanged
		}
		exp := crm.OwnerExpectation{}
		if c.Owner != nil {
			exp.UserID = &c.Owner.ID
		}
		return &to, exp, nil
	})
}

// errUnchanged means the action is already true: success without a change.
var errUnchanged = errors.New("unchanged")

// changeOwner locks and reads the customer in a transaction, asks decide
// for the new owner and the condition, then makes one conditional update;
// if the owner moved in between anyway, the caller is told who owns it now.
func (s *Service) changeOwner(ctx context.Context, actor *crm.User, id int64, action string,
	decide func(c *crm.Customer) (*int64, crm.OwnerExpectation, error)) (*crm.Customer, error) {
	now := s.now()
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		c, err := lockedCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return crm.Conflict("%s is archived; restore it first.", c.FullName)
		}
		to, expect, err := decide(c)
		if err != nil {
			return err
		}
		ok, err := tx.SetOwner(ctx, id, to, expect, now)
		if err != nil {
			return err
		}
		if !ok {
			return errLostRace
		}
		var toRef *crm.UserRef
		if to != nil {
			u, err := tx.GetUser(ctx, *to)
			if err != nil {
				return err
			}
			toRef = ref(u)
		}
		return log(ctx, tx, actor, id, crm.ActOwnerChanged, map[string]any{"action": action, "from": c.Owner, "to": toRef}, now)
	})
	if errors.Is(err, errLostRace) {
		now, err := s.Store.GetCustomer(ctx, id)
		if err != nil {
			return nil, err
		}
		if now.Owner != nil {
			return nil, crm.Conflict("%s was just claimed by %s.", now.FullName, now.Owner.Name)
		}
		return nil, crm.Conflict("%s was just released by someone else; try again.", now.FullName)
	}
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// lockedCustomer locks one customer for the rest of the transaction and
// reads it: what a single action decides on cannot change before it writes.
func lockedCustomer(ctx context.Context, tx crm.Store, id int64) (*crm.Customer, error) {
	if err := tx.LockCustomers(ctx, []int64{id}); err != nil {
		return nil, err
	}
	return tx.GetCustomer(ctx, id)
}

// writable locks a customer for a write of what hangs off it (a field, a
// tag, a contact, a note, a task, a deal) and refuses one merged into
// another: its records moved to the primary, so a write there would never
// be seen again. A merge locks the customers it merges first, so it either
// waits for this write and moves what it wrote with the rest, or it has
// committed and the write is refused here, naming the primary.
func writable(ctx context.Context, tx crm.Store, id int64) (*crm.Customer, error) {
	c, err := lockedCustomer(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if c.MergedInto != nil {
		into := "another customer"
		if p, err := tx.GetCustomer(ctx, *c.MergedInto); err == nil {
			into = p.FullName
		}
		return nil, crm.Conflict("%s was merged into %s, so nothing was saved here: open %s to go on.", c.FullName, into, into)
	}
	return c, nil
}

var errLostRace = errors.New("owner changed meanwhile")

// mayArchive: admins always; members for customers that are theirs or unclaimed.
func mayArchive(actor *crm.User, c *crm.Customer) error {
	if actor.IsAdmin() || c.Owner == nil || c.Owner.ID == actor.ID {
		return nil
	}
	return crm.Forbidden("%s is owned by %s; only they or an admin can archive or restore it.", c.FullName, c.Owner.Name)
}

// Archive hides a customer from the active list (nothing is deleted).
func (s *Service) Archive(ctx context.Context, actor *crm.User, id int64) (*crm.Customer, error) {
	now := s.now()
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		c, err := lockedCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayArchive(actor, c); err != nil {
			return err
		}
		if c.MergedInto != nil {
			return crm.Conflict("%s was merged into customer %d.", c.FullName, *c.MergedInto)
		}
		if c.ArchivedAt != nil {
			return crm.Conflict("%s is already archived.", c.FullName)
		}
		if err := tx.SetArchived(ctx, id, &now, nil, now); err != nil {
			return err
		}
		return log(ctx, tx, actor, id, crm.ActArchived, map[string]any{}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// Restore brings an archived customer back, unless it was merged into another.
func (s *Service) Restore(ctx context.Context, actor *crm.User, id int64) (*crm.Customer, error) {
	now := s.now()
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		c, err := lockedCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayArchive(actor, c); err != nil {
			return err
		}
		if c.MergedInto != nil {
			return crm.Conflict("%s was merged into customer %d and cannot be restored.", c.FullName, *c.MergedInto)
		}
		if c.ArchivedAt == nil {
			return crm.Conflict("%s is not archived.", c.FullName)
		}
		if err := tx.SetArchived(ctx, id, nil, nil, now); err != nil {
			return err
		}
		return log(ctx, tx, actor, id, crm.ActRestored, map[string]any{}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// Allowed lists the ownership actions actor may take on c now (the drawer's menu).
func Allowed(actor *crm.User, c *crm.Customer) []string {
	var out []string
	if c.ArchivedAt == nil {
		if c.Owner == nil {
			out = append(out, ActionClaim)
		} else if c.Owner.ID == actor.ID {
			out = append(out, ActionUnclaim)
		}
		if actor.IsAdmin() {
			if c.Owner != nil {
				out = append(out, ActionRelease)
			}
			out = append(out, ActionReassign)
		}
	}
	if mayArchive(actor, c) == nil {
		if c.ArchivedAt == nil {
			out = append(out, ActionArchive)
		} else if c.MergedInto == nil {
			out = append(out, ActionRestore)
		}
	}
	return out
}
