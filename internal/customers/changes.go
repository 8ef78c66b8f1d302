package customers

import (
	"context"

	"github.com/acme/crm/internal/crm"
)

// Changes reads the change feed (crm.ChangeStore) for a signed-in user.
// Every user sees every customer (SPEC section 4 restricts what one may do,
// not what one may see), so the feed is the same for everyone.
func (s *Service) Changes(ctx context.Context, actor *crm.User, after string, limit int) ([]crm.Change, string, error) {
	if actor == nil {
		return nil, "", &crm.Error{Code: crm.CodeUnauthorized, Message: "sign in first"}
	}
	if limit <= 0 || limit > 1000 {
		return nil, "", crm.Invalid("limit", "must be 1 to 1000")
	}
	return s.Store.Changes(ctx, after, limit)
}

// ChangesHead is the cursor of now: a new reader starts there.
func (s *Service) ChangesHead(ctx context.Context, actor *crm.User) (string, error) {
	if actor == nil {
		return "", &crm.Error{Code: crm.CodeUnauthorized, Message: "sign in first"}
	}
	return s.Store.ChangesHead(ctx)
}
