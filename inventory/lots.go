package inventory

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/quantity"
)

// Lot is a batch as people name it: a lot number of a product. GS1
// identifies a lot by GTIN + lot, so one number may name lots of several
// products.
type Lot struct {
	BatchID     uuid.UUID
	BatchNumber string
	ProductID   uuid.UUID
	ProductGTIN string
	ProductName string
	// LocationName: a lot has a row at each of our locations holding it.
	LocationName string
}

// LotsByNumber finds the batches with these lot numbers, of every
// product, keyed by number; unknown numbers are left out.
func (s *Service) LotsByNumber(ctx context.Context, numbers []string) (map[string][]Lot, error) {
	out := map[string][]Lot{}
	if len(numbers) == 0 {
		return out, nil
	}
	rows, err := s.store.LotsByNumber(ctx, numbers)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.BatchNumber] = append(out[r.BatchNumber], lotFromRow(db.RecentLotsRow(r)))
	}
	return out, nil
}

// RecentLots lists the newest lots, for suggestions.
func (s *Service) RecentLots(ctx context.Context, n int) ([]Lot, error) {
	rows, err := s.store.RecentLots(ctx, int32(min(max(n, 1), 1000)))
	if err != nil {
		return nil, err
	}
	out := make([]Lot, len(rows))
	for i, r := range rows {
		out[i] = lotFromRow(r)
	}
	return out, nil
}

func lotFromRow(r db.RecentLotsRow) Lot {
	return Lot{BatchID: r.ID, BatchNumber: r.BatchNumber, ProductID: r.ProductID, ProductGTIN: r.ProductGtin,
		ProductName: r.ProductName, LocationName: r.LocationName}
}

// LotError says why a lot number, with or without its product, names no
// single batch.
type LotError struct {
	Number    string
	Product   bool     // a product was given
	Ambiguous []string // the products that have the number, when several do
	Locations bool     // Ambiguous names our locations holding the product's lot
}

func (e *LotError) Error() string {
	switch {
	case len(e.Ambiguous) > 0 && e.Locations:
		return "lot " + e.Number + " has stock at " + itoa(len(e.Ambiguous)) + " locations (" +
			strings.Join(e.Ambiguous, ", ") + "): choose the batch"
	case len(e.Ambiguous) > 0:
		return "lot " + e.Number + " exists for " + itoa(len(e.Ambiguous)) + " products (" +
			strings.Join(e.Ambiguous, ", ") + "): choose the product"
	case e.Product:
		return "the product has no batch with lot " + e.Number
	}
	return "no batch has lot " + e.Number
}

// PickLot chooses among lots (LotsByNumber's answer for number) the one of
// productID, or the only one when productID is nil. A number several
// products use needs its product: that is a *LotError, as is no match.
func PickLot(lots []Lot, number string, productID *uuid.UUID) (Lot, error) {
	if productID != nil {
		var mine []Lot
		for _, l := range lots {
			if l.ProductID == *productID {
				mine = append(mine, l)
			}
		}
		switch len(mine) {
		case 0:
			return Lot{}, &LotError{Number: number, Product: true}
		case 1:
			return mine[0], nil
		}
		names := make([]string, len(mine))
		for i, l := range mine {
			names[i] = l.ProductName + " at " + l.LocationName
		}
		return Lot{}, &LotError{Number: number, Ambiguous: names, Locations: true}
	}
	switch len(lots) {
	case 0:
		return Lot{}, &LotError{Number: number}
	case 1:
		return lots[0], nil
	}
	names := make([]string, len(lots))
	sameProduct := true
	for i, l := range lots {
		names[i] = l.ProductName + " " + l.ProductGTIN
		sameProduct = sameProduct && l.ProductID == lots[0].ProductID
	}
	if sameProduct {
		for i, l := range lots {
			names[i] = l.ProductName + " at " + l.LocationName
		}
	}
	return Lot{}, &LotError{Number: number, Ambiguous: names, Locations: sameProduct}
}

// LotLocations lists a lot's rows: its stock at each of our locations.
func (s *Service) LotLocations(ctx context.Context, productID uuid.UUID, batchNumber string) ([]Batch, error) {
	rows, err := s.store.LotRows(ctx, db.LotRowsParams{ProductID: productID, BatchNumber: batchNumber})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return []Batch{}, nil
	}
	p, err := s.store.GetProduct(ctx, productID)
	if err != nil {
		return nil, notFound(err, "product", "product_id")
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = batchFromRow(r.Batch, p.Gtin, p.Name, r.LocationGln, r.LocationName)
	}
	return out, nil
}

// Transit is stock shipped from a lot's row to another of our locations,
// not arrived yet.
type Transit struct {
	ID           uuid.UUID
	ToLocationID uuid.UUID
	ToGLN        string
	ToName       string
	Quantity     quantity.Quantity // shipped
	Open         quantity.Quantity // not received yet
	ShipEventID  uuid.UUID
	ShippedAt    time.Time
}

// InTransitFrom lists the open transfers shipped from a batch row.
func (s *Service) InTransitFrom(ctx context.Context, batchID uuid.UUID) ([]Transit, error) {
	rows, err := s.store.InTransitFrom(ctx, batchID)
	if err != nil {
		return nil, err
	}
	out := make([]Transit, len(rows))
	for i, r := range rows {
		out[i] = Transit{ID: r.ID, ToLocationID: r.ToLocationID, ToGLN: r.ToGln, ToName: r.ToName,
			Quantity: r.Quantity, Open: r.QuantityOpen, ShipEventID: r.ShipEventID, ShippedAt: r.CreatedAt}
	}
	return out, nil
}

// OurLocationIDs says which of these locations are ours (no party, or our
// own party's): where stock can be received, commissioned or held.
func (s *Service) OurLocationIDs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	rows, err := s.store.LocationsForStock(ctx, db.LocationsForStockParams{Ids: ids, Glns: []string{}})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(rows))
	for _, r := range rows {
		if r.Ours {
			out[r.ID] = true
		}
	}
	return out, nil
}
