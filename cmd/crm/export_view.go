package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// viewQuery resolves `crm export --view NAME`: a view the actor may see (its
// own, or a shared one), by name case-insensitively, the actor's own first;
// else by id. Its query is opened as the table opens it: a tag, segment or
// user gone since it was saved is reported and matches nobody.
func viewQuery(ctx context.Context, svc *customers.Service, actor *crm.User, name string, stderr io.Writer) (crm.CustomerQuery, error) {
	views, err := svc.Views(ctx, actor)
	if err != nil {
		return crm.CustomerQuery{}, err
	}
	var found []crm.SavedView
	for _, v := range views {
		if crm.NameKey(v.Name) == crm.NameKey(name) {
			found = append(found, v)
		}
	}
	if len(found) > 1 {
		for _, v := range found {
			if v.Owner.ID == actor.ID {
				found = []crm.SavedView{v}
				break
			}
		}
	}
	if len(found) == 0 {
		if id, err := strconv.ParseInt(name, 10, 64); err == nil {
			for _, v := range views {
				if v.ID == id {
					found = append(found, v)
				}
			}
		}
	}
	switch {
	case len(found) == 0:
		who := "shared"
		if actor.ID != 0 {
			who = "of " + actor.Email + " or shared"
		}
		return crm.CustomerQuery{}, fmt.Errorf("--view: no view %s is named %q (a personal view needs --as its owner)", who, name)
	case len(found) > 1:
		var owners []string
		for _, v := range found {
			owners = append(owners, fmt.Sprintf("%d (by %s)", v.ID, v.Owner.Name))
		}
		return crm.CustomerQuery{}, fmt.Errorf("--view: several shared views are named %q: give the id of one: %s", name, strings.Join(owners, ", "))
	}
	vals, _ := url.ParseQuery(found[0].Query)
	if vals.Get("owner") == "me" && actor.ID == 0 {
		return crm.CustomerQuery{}, fmt.Errorf("--view %q filters on owner=me: give --as EMAIL to say who me is", found[0].Name)
	}
	q, missing, err := svc.OpenQuery(ctx, actor, vals)
	if err != nil {
		return q, fieldLines(err)
	}
	for _, m := range missing {
		if m.Label != "" {
			fmt.Fprintf(stderr, "view %q: %s: no customer matches through it\n", found[0].Name, m.Label)
		}
	}
	return q, nil
}
