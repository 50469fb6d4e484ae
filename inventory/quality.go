package inventory

import (
	"slices"
	"strings"
	"time"
)

// QualityStatus is a batch's quality state, set by people (approve,
// reject, recall); "expired" is not one of them but follows from the date.
type QualityStatus string

const (
	StatusPending  QualityStatus = "pending"
	StatusApproved QualityStatus = "approved"
	StatusRejected QualityStatus = "rejected"
	StatusRecalled QualityStatus = "recalled"
)

// QualityStatuses a batch can be in.
var QualityStatuses = []QualityStatus{StatusPending, StatusApproved, StatusRejected, StatusRecalled}

// Valid says whether s is one of QualityStatuses.
func (s QualityStatus) Valid() bool { return slices.Contains(QualityStatuses, s) }

// Disposition is the GS1 CBV disposition an inspection that sets s records.
func (s QualityStatus) Disposition() string {
	return map[QualityStatus]string{
		StatusApproved: "conformant", StatusRejected: "non_conformant", StatusRecalled: "recalled", StatusPending: "in_progress",
	}[s]
}

// qualityStatusList is "pending, approved, ..." for validation messages.
func qualityStatusList() string {
	names := make([]string, len(QualityStatuses))
	for i, s := range QualityStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Unusable says why a lot cannot be used (consumed, counted as stock).
type Unusable string

const (
	Usable           Unusable = ""
	UnusableRejected Unusable = "rejected"
	UnusableRecalled Unusable = "recalled"
	UnusableExpired  Unusable = "expired"
)

// Unusable is the one rule for using a lot: rejected and recalled lots
// never, others not after their expiry date. The status comes first: it
// says more than the date. The consume statement (queries/batches.sql,
// ConsumeBatch) and the overview's lists repeat it in SQL;
// TestUsabilityRuleMatchesSQL keeps the consume statement in step.
func (s QualityStatus) Unusable(expiry *time.Time, today time.Time) Unusable {
	switch {
	case s == StatusRejected:
		return UnusableRejected
	case s == StatusRecalled:
		return UnusableRecalled
	case expiry != nil && expiry.Before(dateOnly(today)):
		return UnusableExpired
	}
	return Usable
}
