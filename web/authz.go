package web

import (
	"github.com/gofiber/fiber/v2"

	"batchtrack/auth"
)

// Route guards: every route in routes.go names the least role that may
// call it, checked on every request against the caller authenticate found
// (anonymous: 401 or the login page; too small a role: 403). The matrix is
// in auth/README.md; web/auth_routes_test.go checks every registered route
// against it.
func (s *Server) viewer(h fiber.Handler) fiber.Handler   { return guard(roleViewer, h) }
func (s *Server) operator(h fiber.Handler) fiber.Handler { return guard(roleOperator, h) }
func (s *Server) admin(h fiber.Handler) fiber.Handler    { return guard(roleAdmin, h) }

// public marks routes open without login (health checks, login page).
func (s *Server) public(h fiber.Handler) fiber.Handler { return h }

func guard(need auth.Role, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, ok := currentUser(c); !ok {
			return unauthenticated(c)
		}
		if err := requireRole(c, need); err != nil {
			return err
		}
		return h(c)
	}
}

// isAdmin says whether the caller is an admin, for views that offer admin
// actions (the routes check again).
func isOperator(c *fiber.Ctx) bool {
	u, ok := currentUser(c)
	return ok && u.Role.Allows(roleOperator)
}

func isAdmin(c *fiber.Ctx) bool {
	u, ok := currentUser(c)
	return ok && u.Role.Allows(roleAdmin)
}
