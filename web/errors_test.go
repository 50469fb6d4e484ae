package web

import (
	"fmt"
	"testing"

	"github.com/gofiber/fiber/v2"

	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Every domain error reaches the client through the one table, with its
// own sentence as the detail and its fields intact.
func TestToProblem(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		typ        string
		detail     string
		retryAfter int
	}{
		{"validation", inventory.Invalid("gtin", "is required"), 422, "/problems/validation", "gtin is required", 0},
		{"not found", &inventory.NotFoundError{What: "batch"}, 404, "/problems/not-found", "The batch does not exist.", 0},
		{"conflict", &inventory.ConflictError{Field: "gtin", Message: "a product with GTIN 1 already exists"}, 409, "/problems/conflict", "a product with GTIN 1 already exists", 0},
		{"insufficient", &inventory.InsufficientQuantityError{Requested: quantity.MustParse("5"), QuantityAvailable: quantity.MustParse("2"), Item: -1},
			409, "/problems/insufficient-quantity", "You asked for 5; the batch has 2 available.", 0},
		{"version", &inventory.VersionConflictError{ExpectedVersion: 1, CurrentVersion: 3}, 409, "/problems/version-conflict",
			"The batch changed since you read it: it went from version 1 to 3.", 0},
		{"recalled", &inventory.NotConsumableError{QualityStatus: "recalled", Item: -1}, 409, "/problems/batch-not-consumable",
			"The batch cannot be consumed: it is recalled.", 0},
		{"expired", &inventory.NotConsumableError{QualityStatus: "approved", Expired: true, Item: -1}, 409, "/problems/batch-not-consumable",
			"The batch cannot be consumed: it is past its expiry date.", 0},
		{"lock timeout, wrapped", fmt.Errorf("consume: %w", inventory.ErrLockTimeout), 503, "/problems/lock-timeout",
			"Others are changing this batch right now; retry in a moment. Nothing was changed.", 7},
		{"key reuse", idempotency.ErrKeyReused, 422, "/problems/idempotency-key-reuse", "This Idempotency-Key was already used with a different request.", 0},
		{"fiber 413", fiber.ErrRequestEntityTooLarge, 413, "/problems/body-too-large", "Request bodies are limited to 1 MiB.", 0},
		{"fiber 400", fiber.NewError(400, "bad path"), 400, "/problems/bad-request", "bad path", 0},
		{"unknown", fmt.Errorf("boom"), 500, "/problems/internal", "Something went wrong on our side. Quote the request id when you report it.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := toProblem(tt.err, 7)
			if p.Status != tt.status || p.Type != tt.typ || p.Detail != tt.detail || p.RetryAfter != tt.retryAfter {
				t.Errorf("got %d %s %q retry %d, want %d %s %q retry %d", p.Status, p.Type, p.Detail, p.RetryAfter,
					tt.status, tt.typ, tt.detail, tt.retryAfter)
			}
		})
	}
	iq := toProblem(&inventory.InsufficientQuantityError{QuantityAvailable: quantity.MustParse("2"), Item: 1}, 0)
	if iq.QuantityAvailable == nil || iq.QuantityAvailable.String() != "2" || iq.Item == nil || *iq.Item != 1 {
		t.Errorf("insufficient quantity lost its fields: %+v", iq)
	}
	vc := toProblem(&inventory.VersionConflictError{CurrentVersion: 3}, 0)
	if vc.CurrentVersion == nil || *vc.CurrentVersion != 3 {
		t.Errorf("version conflict lost current_version: %+v", vc)
	}
	nf := toProblem(&inventory.NotFoundError{What: "product", Field: "product_id"}, 0)
	if len(nf.Errors) != 1 || nf.Errors[0].Field != "product_id" {
		t.Errorf("not found lost its field: %+v", nf)
	}
}
