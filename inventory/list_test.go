package inventory_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// The one list query walks every order page by page, each row once, in
// the order the sort promises (ties broken by id).
func TestListBatchesSortedPages(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	now := time.Now()
	var made []inventory.Batch
	for i, spec := range []struct {
		number string
		expiry int // days from now; 0 for none
		used   string
	}{{"C-3", 30, "1"}, {"A-1", 0, "0"}, {"B-2", 10, "4"}, {"E-5", 10, "1"}, {"D-4", 0, "2"}} {
		b := w.batch("5", func(n *inventory.NewBatch) {
			n.BatchNumber, n.ExpiryDate = spec.number, nil
			if spec.expiry != 0 {
				e := now.AddDate(0, 0, spec.expiry)
				n.ExpiryDate = &e
			}
		})
		if spec.used != "0" {
			if _, _, err := svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse(spec.used)}); err != nil {
				t.Fatal(i, err)
			}
		}
		if b, err := svc.GetBatch(ctx, b.ID); err != nil {
			t.Fatal(err)
		} else {
			made = append(made, b)
		}
	}
	expiryKey := func(b inventory.Batch) time.Time {
		if b.ExpiryDate == nil {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return *b.ExpiryDate
	}
	tests := []struct {
		sort string
		less func(a, b inventory.Batch) int
	}{
		{inventory.SortNewest, func(a, b inventory.Batch) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return -strings.Compare(a.ID.String(), b.ID.String())
		}},
		{inventory.SortNumber, func(a, b inventory.Batch) int { return strings.Compare(a.BatchNumber, b.BatchNumber) }},
		{inventory.SortExpiry, func(a, b inventory.Batch) int {
			if c := expiryKey(a).Compare(expiryKey(b)); c != 0 {
				return c
			}
			return strings.Compare(a.ID.String(), b.ID.String())
		}},
		{inventory.SortAvailable, func(a, b inventory.Batch) int {
			if a.QuantityAvailable != b.QuantityAvailable {
				return int(a.QuantityAvailable - b.QuantityAvailable)
			}
			return strings.Compare(a.ID.String(), b.ID.String())
		}},
	}
	for _, tt := range tests {
		t.Run("sort="+tt.sort, func(t *testing.T) {
			want := slices.Clone(made)
			slices.SortStableFunc(want, tt.less)
			var got []uuid.UUID
			cursor := ""
			for range 10 {
				page, err := svc.ListBatchesSorted(ctx, inventory.BatchFilter{ProductID: &w.product.ID}, tt.sort, inventory.ListOptions{Limit: 2, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range page.Items {
					got = append(got, b.ID)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			var wantIDs []uuid.UUID
			for _, b := range want {
				wantIDs = append(wantIDs, b.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("order %v, want %v", got, wantIDs)
			}
		})
	}
	if _, err := svc.ListBatchesSorted(ctx, inventory.BatchFilter{}, "colour", inventory.ListOptions{}); err == nil {
		t.Error("an unknown sort is accepted")
	}
}
