package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"batchtrack/db"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// The consume statement repeats the usability rule in SQL (the locked
// fast path); for every status and expiry it must agree with
// QualityStatus.Unusable.
func TestUsabilityRuleMatchesSQL(t *testing.T) {
	strict, pool := newService(t, 10, 2*time.Second)
	lenient := inventory.New(db.NewStore(pool), inventory.Options{LockTimeout: 2 * time.Second, AllowPending: true})
	rules := []struct {
		name string
		svc  *inventory.Service
		want inventory.Release
	}{{"release required", strict, inventory.ReleaseRequired}, {"pending allowed", lenient, inventory.ReleaseNotRequired}}
	ctx := context.Background()
	now := time.Now()
	day := func(d int) *time.Time { t := now.AddDate(0, 0, d); return &t }
	expiries := []struct {
		name   string
		expiry *time.Time
	}{{"no expiry", nil}, {"expired yesterday", day(-1)}, {"expires today", day(0)}, {"expires tomorrow", day(1)}}
	for _, rule := range rules {
		if got := rule.svc.Release(); got != rule.want {
			t.Fatalf("%s: Release() = %v, want %v", rule.name, got, rule.want)
		}
		w := newWorld(t, rule.svc)
		for _, st := range inventory.QualityStatuses {
			for _, ex := range expiries {
				t.Run(rule.name+"/"+string(st)+"/"+ex.name, func(t *testing.T) {
					b := w.batch("10", func(n *inventory.NewBatch) {
						n.QualityStatus, n.ExpiryDate, n.ProductionDate = string(st), ex.expiry, now.AddDate(0, 0, -10)
					})
					why := b.Unusable(now, rule.svc.Release())
					_, _, err := rule.svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("1")})
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
}
