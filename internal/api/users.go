package api

import (
	"context"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
)

// UserJSON is a user as the API shows it.
type UserJSON struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Role   crm.Role `json:"role" enum:"admin,member"`
	Active bool     `json:"active"`
}

func userJSON(u *crm.User) UserJSON {
	return UserJSON{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Active: u.Active}
}

type userOut struct{ Body UserJSON }

func (a *apiServer) me(ctx context.Context, _ *struct{}) (*userOut, error) {
	return &userOut{Body: userJSON(caller(ctx))}, nil
}

type usersOut struct {
	Body struct {
		Items []UserJSON `json:"items"`
	}
}

func (a *apiServer) listUsers(ctx context.Context, _ *struct{}) (*usersOut, error) {
	users, err := a.Accounts.ListUsers(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &usersOut{}
	out.Body.Items = make([]UserJSON, len(users))
	for i := range users {
		out.Body.Items[i] = userJSON(&users[i])
	}
	return out, nil
}

type createUserIn struct {
	Body struct {
		Email    string   `json:"email" maxLength:"320"`
		Name     string   `json:"name" maxLength:"200"`
		Role     crm.Role `json:"role" enum:"admin,member"`
		Password string   `json:"password" maxLength:"128"`
	}
}

func (a *apiServer) createUser(ctx context.Context, in *createUserIn) (*userOut, error) {
	u, err := a.Accounts.CreateUser(ctx, caller(ctx), accounts.NewUser{Email: in.Body.Email, Name: in.Body.Name, Role: in.Body.Role, Password: in.Body.Password})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &userOut{Body: userJSON(u)}, nil
}
