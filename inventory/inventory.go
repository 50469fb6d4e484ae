// Package inventory is batchtrack's domain: master data, batches and their
// balances, the consume ledger and EPCIS events. It owns every change of a
// balance and knows nothing of HTTP.
package inventory

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/quantity"
)

// Service carries out the domain's operations on the database.
type Service struct {
	store       *db.Store
	lockTimeout time.Duration
	metrics     *Metrics
	now         func() time.Time
	logger      *slog.Logger
	changes     Changes
	combiner    *consumeCombiner
	release     Release
}

// Options configure a Service.
type Options struct {
	LockTimeout time.Duration // default 2s
	Metrics     *Metrics      // nil: not measured
	Now         func() time.Time
	Logger      *slog.Logger
	Changes     Changes // nil: nobody to tell
	// AllowPending lets pending (unreleased) lots be used, for a site
	// without a QA release (RELEASE_REQUIRED=false).
	AllowPending bool
}

// New returns a Service on store.
func New(store *db.Store, opts Options) *Service {
	s := &Service{store: store, lockTimeout: opts.LockTimeout, metrics: opts.Metrics, now: opts.Now, logger: opts.Logger, changes: opts.Changes, combiner: newConsumeCombiner(),
		release: Release(!opts.AllowPending)}
	if s.lockTimeout <= 0 {
		s.lockTimeout = 2 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(nil)
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s
}

// Release is the site's rule for pending lots.
func (s *Service) Release() Release { return s.release }

// LockTimeout is the configured bound on row-lock waits.
func (s *Service) LockTimeout() time.Duration { return s.lockTimeout }

// Actor is who asks for a change, as recorded in the ledger and events.
type Actor struct {
	Name   string // "ana@example.com", "token:bt_abc123 (ana@example.com)"
	Source string // event source_type for events the actor records: manual, api, import
}

// System is the app itself, for seed data and housekeeping.
var System = Actor{Name: "system", Source: "system"}

func (a Actor) name() string {
	if a.Name == "" {
		return "anonymous"
	}
	return a.Name
}

func (a Actor) source() string {
	switch a.Source {
	case "manual", "api", "system", "import":
		return a.Source
	}
	return "api"
}

// Product is a GS1 trade item.
type Product struct {
	ID          uuid.UUID
	GTIN        string
	Name        string
	Description string
	Category    string
	// UOM is the product's default unit as a UN/ECE Rec 20 code ("KGM");
	// kept idempotent results name it Unit.
	UOM string `json:"Unit"`
	// The expected yield of transformations making it (nil: any).
	YieldMin, YieldMax *quantity.Quantity `json:",omitempty"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Location is a GS1 location.
type Location struct {
	ID        uuid.UUID
	GLN       string
	Name      string
	Type      string
	Address   string
	ParentID  *uuid.UUID
	PartyID   *uuid.UUID // nil: ours
	PartyName string
	Ours      bool // no party, or our own party's
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Batch is a lot of a product at a location with its balance.
type Batch struct {
	ID                uuid.UUID
	BatchNumber       string
	ProductID         uuid.UUID
	ProductGTIN       string
	ProductName       string
	LocationID        uuid.UUID
	LocationGLN       string
	LocationName      string
	ProductionDate    time.Time
	ExpiryDate        *time.Time
	BestBeforeDate    *time.Time
	QuantityProduced  quantity.Quantity
	QuantityAvailable quantity.Quantity
	// UOM is the unit as a UN/ECE Rec 20 code ("KGM"), as EPCIS quantity
	// lists carry it; kept idempotent results name it UnitOfMeasure.
	UOM           string `json:"UnitOfMeasure"`
	QualityStatus QualityStatus
	StatusReason  string            // why it is on hold, rejected or recalled
	Origin        string            // produced, received or moved (how this location's stock began)
	TLCSource     string            // FSMA 204: GLN of who assigned the traceability lot code
	KDEs          map[string]string `json:",omitempty"` // key data elements of its creation
	Notes         string
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Unusable says why the batch may not be used on the given day, if so.
func (b Batch) Unusable(today time.Time, rule Release) Unusable {
	return b.QualityStatus.Unusable(b.ExpiryDate, today, rule)
}

// Consumable says whether the batch may be consumed on the given day.
func (b Batch) Consumable(today time.Time, rule Release) bool {
	return b.Unusable(today, rule) == Usable
}

// Expired says whether the batch is past its expiry date on the given day.
func (b Batch) Expired(today time.Time) bool {
	return b.ExpiryDate != nil && b.ExpiryDate.Before(dateOnly(today))
}

// Consumption is a ledger entry.
type Consumption struct {
	ID                     uuid.UUID
	BatchID                uuid.UUID
	Kind                   string // consume, adjust, reversal
	Quantity               quantity.Quantity
	QuantityAvailableAfter quantity.Quantity
	VersionAfter           int64
	Reason                 string
	Actor                  string
	EventID                *uuid.UUID
	CreatedAt              time.Time
	// A reversal's row undone (nil for a created lot's opening quantity)
	// and that row's kind.
	ReversesID   *uuid.UUID
	ReversesKind string
}

// Page is one page of a keyset-paginated list.
type Page[T any] struct {
	Items      []T
	NextCursor string // "" on the last page
}

// ListOptions are the paging parameters every list takes.
type ListOptions struct {
	Limit  int    // 1..200, default 50
	Cursor string // opaque, from a previous page
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

func (o ListOptions) limit(v *ValidationError) int32 {
	switch {
	case o.Limit == 0:
		return defaultLimit
	case o.Limit < 1 || o.Limit > maxLimit:
		v.Add("limit", "must be between 1 and 200")
		return defaultLimit
	}
	return int32(o.Limit)
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *Service) today() time.Time { return dateOnly(s.now()) }

// timezoneOffset is the EPCIS eventTimeZoneOffset of t, e.g. "+02:00".
func timezoneOffset(t time.Time) string { return t.Format("-07:00") }

func ptr[T any](v T) *T { return &v }

func itoa(n int) string { return strconv.Itoa(n) }

// Change says what a committed write made stale, for caches.
type Change struct {
	Batches []uuid.UUID // batches whose row, ledger or events changed
	List    bool        // the batch list and overview figures
	Events  bool        // the events list
}

// Changes hears about every committed change, before the write returns to
// its caller: a read that starts after a write sees it.
type Changes interface {
	Changed(ctx context.Context, c Change)
}

func (s *Service) changed(ctx context.Context, c Change) {
	if s.changes != nil {
		s.changes.Changed(ctx, c)
	}
}

// replayed tells Changes again about the batches of a write whose kept
// answer is being replayed: the first answer was lost, and with it maybe
// the invalidation (the commit got through, the connection did not).
func (s *Service) replayed(ctx context.Context, batches ...Batch) {
	ids := make([]uuid.UUID, len(batches))
	for i, b := range batches {
		ids[i] = b.ID
	}
	s.changed(ctx, Change{Batches: ids, List: true, Events: true})
}
