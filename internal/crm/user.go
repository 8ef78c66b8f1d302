package crm

import "time"

// Role is what a user may do: admins manage settings and anyone's customers.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember }

// User is a person who signs in.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	Active       bool      `json:"active"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// MustChangePassword is set by an admin's reset: the temporary password
	// signs in only to the page that replaces it.
	MustChangePassword bool `json:"must_change_password"`
	// SessionVersion is raised by a password change or reset; a session
	// begun under an older version is over.
	SessionVersion int64 `json:"-"`
}

// IsAdmin reports whether the user has the admin role.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// UserRef is the short form of a user inside other objects (a customer's owner).
type UserRef struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// UserPatch changes a user; nil fields are left alone.
type UserPatch struct {
	Name         *string
	Role         *Role
	Active       *bool
	PasswordHash *string
	// MustChangePassword sets or clears the forced change at next sign-in.
	MustChangePassword *bool
	// EndSessions raises SessionVersion, ending every session of the user.
	EndSessions bool
	// IfSessionVersion, when set, writes only while the user's session
	// version is still this one (Conflict otherwise): a password change
	// decided on the password it checked must not undo an admin's reset
	// (or another change) that committed meanwhile.
	IfSessionVersion *int64
}

// APIToken is a personal bearer token; only its SHA-256 hash is stored.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Hash       []byte     `json:"-"`
	Prefix     string     `json:"prefix"` // first characters, to recognise a token in a list
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// LoginFailures is what sign-in throttling decides on (see accounts.Authenticate).
type LoginFailures struct {
	Pair     int       // failures of one e-mail from one address
	PairLast time.Time // the latest of them (zero when none)
	IP       int       // failures from that address, any e-mail
}
