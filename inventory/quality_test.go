package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// The consume statement repeats the usability rule in SQL (the locked
// fast path); for every status and expiry it must agree with
// QualityStatus.Unusable.
func TestUsabilityRuleMatchesSQL(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	now := time.Now()
	day := func(d int) *time.Time { t := now.AddDate(0, 0, d); return &t }
	expiries := []struct {
		name   string
		expiry *time.Time
	}{{"no expiry", nil}, {"expired yesterday", day(-1)}, {"expires today", day(0)}, {"expires tomorrow", day(1)}}
	for _, st := range inventory.QualityStatuses {
		for _, ex := range expiries {
			t.Run(string(st)+"/"+ex.name, func(t *testing.T) {
				b := w.batch("10", func(n *inventory.NewBatch) {
					n.QualityStatus, n.ExpiryDate, n.ProductionDate = string(st), ex.expiry, now.AddDate(0, 0, -10)
				})
				why := b.Unusable(now, svc.Release())
				_, _, err := svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("1")})
				var nc *inventory.NotConsumableError
				switch {
				case why == inventory.Usable && err != nil:
					t.Fatalf("Go says usable, the consume statement refused: %v", err)
				case why != inventory.Usable && !errors.As(err, &nc):
					t.Fatalf("Go says %s, the consume statement answered %v", why, err)
				case nc != nil && nc.Expired != (why == inventory.UnusableExpired):
					t.Errorf("refusal says expired=%v, Go says %s", nc.Expired, why)
				}
			})
		}
	}
}
