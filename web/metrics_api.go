package web

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/common/expfmt"
)

// prometheusText is the exposition format every Prometheus scrapes.
var prometheusText = expfmt.NewFormat(expfmt.TypeTextPlain)

// showPrometheusMetrics is /metrics: the whole registry in Prometheus text
// format, for admins and admin tokens (a scraper sends
// "Authorization: Bearer <admin token>"). A collector that fails is
// logged and left out; the rest is still served, as promhttp's
// ContinueOnError does, so one broken collector never blinds monitoring.
func (s *Server) showPrometheusMetrics(c *fiber.Ctx) error {
	fams, err := s.ops.registry.Gather()
	if err != nil {
		s.log(c).Error("metrics: gather failed in part", "err", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, prometheusText)
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderContentType, string(prometheusText))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// showMetricsSnapshot is /api/metrics: what the dashboard shows, as JSON.
func (s *Server) showMetricsSnapshot(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, s.takeSnapshot())
}
