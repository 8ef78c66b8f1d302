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
	// MustChangePassword: an admin reset the password; the temporary one
	// signs in only to choose a new one.
	MustChangePassword bool `json:"must_change_password"`
}

func userJSON(u *crm.User) UserJSON {
	return UserJSON{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Active: u.Active, MustChangePassword: u.MustChangePassword}
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

type patchMeIn struct {
	Body struct {
		Name string `json:"name" maxLength:"200"`
	}
}

// patchMe changes the caller's own name.
func (a *apiServer) patchMe(ctx context.Context, in *patchMeIn) (*userOut, error) {
	u, err := a.Accounts.Rename(ctx, caller(ctx), in.Body.Name)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &userOut{Body: userJSON(u)}, nil
}

type resetPasswordIn struct {
	ID int64 `path:"id" minimum:"1"`
}

type resetPasswordOut struct {
	Body struct {
		TemporaryPassword string   `json:"temporary_password" doc:"shown once: the user signs in with it and must choose a new password"`
		User              UserJSON `json:"user"`
	}
}

// resetPassword gives a user a temporary password (admins only).
func (a *apiServer) resetPassword(ctx context.Context, in *resetPasswordIn) (*resetPasswordOut, error) {
	temp, u, err := a.Accounts.ResetPassword(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &resetPasswordOut{}
	out.Body.TemporaryPassword, out.Body.User = temp, userJSON(u)
	return out, nil
}
