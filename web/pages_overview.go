package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/views"
	"batchtrack/web/cache"
)

func (s *Server) showOverview(c *fiber.Ctx) error {
	ctx := c.UserContext()
	// The page is per person (name, CSRF token); its figures are not, so
	// the aggregates are what is cached.
	type figures struct {
		Overview inventory.Overview
		Events   []inventory.Event
	}
	f, hit, err := cachedJSON(ctx, s.deps.Caching, cache.Key{Namespace: nsOverview, ID: "figures"}, func(ctx context.Context) (figures, error) {
		o, err := s.deps.Inventory.Overview(ctx, 10)
		if err != nil {
			return figures{}, err
		}
		events, err := s.deps.Inventory.ListEvents(ctx, inventory.EventFilter{}, inventory.ListOptions{Limit: 8})
		return figures{Overview: o, Events: events.Items}, err
	})
	if err != nil {
		return err
	}
	cache.SetHeader(c, hit)
	o := f.Overview
	m := views.OverviewModel{Counts: o.Counts, LowStock: o.LowStock, Expiring: o.Expiring, Today: time.Now()}
	if m.Events, err = s.eventViews(ctx, f.Events); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.OverviewPage(chromeFor(c, "Overview", "overview"), m))
}
