package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) showHealth(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, map[string]string{"status": "ok"})
}

// showReadiness is 200 only while the database answers and the server is
// not shutting down.
func (s *Server) showReadiness(c *fiber.Ctx) error {
	if s.draining.Load() {
		return sendJSON(c, fiber.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.deps.Pool.Ping(ctx); err != nil {
		s.log(c).Warn("readiness: database does not answer", "err", err)
		return sendJSON(c, fiber.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "down"})
	}
	return sendJSON(c, fiber.StatusOK, map[string]string{"status": "ok", "database": "up"})
}
