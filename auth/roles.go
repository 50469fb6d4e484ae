package auth

import "fmt"

// Role is what a user may do; each role includes the ones below it.
type Role string

const (
	// RoleViewer reads everything.
	RoleViewer Role = "viewer"
	// RoleOperator also creates master data and batches, consumes, records
	// events, imports CSV, approves and rejects batches.
	RoleOperator Role = "operator"
	// RoleAdmin also adjusts balances, recalls batches and manages users
	// and tokens.
	RoleAdmin Role = "admin"
)

// Roles lists the roles from least to most powerful.
func Roles() []Role { return []Role{RoleViewer, RoleOperator, RoleAdmin} }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a user of role r may do what needs role need. An
// unknown role allows nothing.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", &ValidationError{Field: "role", Message: fmt.Sprintf("must be viewer, operator or admin, not %q", s)}
}
