package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/views"
)

func (u *ui) showOverview(c *fiber.Ctx) error {
	ctx := c.UserContext()
	o, err := u.inv.Overview(ctx, 10)
	if err != nil {
		return err
	}
	events, err := u.inv.ListEvents(ctx, inventory.EventFilter{}, inventory.ListOptions{Limit: 8})
	if err != nil {
		return err
	}
	m := views.OverviewModel{Counts: o.Counts, LowStock: o.LowStock, Expiring: o.Expiring, Today: time.Now()}
	if m.Events, err = u.eventViews(ctx, events.Items); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.OverviewPage(chromeFor(c, "Overview", "overview"), m))
}

func (u *ui) showDashboard(c *fiber.Ctx) error {
	return render(c, fiber.StatusOK, views.DashboardPage(chromeFor(c, "Dashboard", "dashboard")))
}
