package web

import "github.com/gofiber/fiber/v2"

// Route guards: every route in routes.go names the least role that may
// call it. Until the auth issue lands they let everyone through.
func (s *Server) viewer(h fiber.Handler) fiber.Handler   { return h }
func (s *Server) operator(h fiber.Handler) fiber.Handler { return h }
func (s *Server) admin(h fiber.Handler) fiber.Handler    { return h }

// public marks routes open without login (health checks, login page).
func (s *Server) public(h fiber.Handler) fiber.Handler { return h }
