// Package crm is the domain vocabulary of the Customers module: the entities of
// SPEC section 1, the filter and patch types shared by every surface, typed
// errors, and the Store interface that both database engines implement.
//
// It imports no other package of this module.
package crm
