package customers

import "github.com/acme/crm/internal/crm"

// MaySee reports whether u may see the customer customerID, and so be told
// of its changes (live updates, issue 15). SPEC section 4: every active user,
// member or admin, sees every customer (archived and merged ones included,
// under the Archived filter); the rules there are about changing customers,
// not seeing them. A deactivated user sees none. The live stream asks this
// for every change it would push, with the user read fresh, so a rule added
// here (a private customer, a team) is obeyed there at once.
func MaySee(u *crm.User, customerID int64) bool {
	return u != nil && u.Active && customerID > 0
}
