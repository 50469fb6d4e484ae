package inventory

import (
	"slices"
	"strings"
	"time"
)

// QualityStatus is a batch's quality state, set by people (release, hold,
// reject, recall); "expired" is not one of them but follows from the date.
type QualityStatus string

const (
	StatusPending  QualityStatus = "pending"
	StatusApproved QualityStatus = "approved"
	StatusOnHold   QualityStatus = "on_hold"
	StatusRejected QualityStatus = "rejected"
	StatusRecalled QualityStatus = "recalled"
)

// QualityStatuses a batch can be in.
var QualityStatuses = []QualityStatus{StatusPending, StatusApproved, StatusOnHold, StatusRejected, StatusRecalled}

// Valid says whether s is one of QualityStatuses.
func (s QualityStatus) Valid() bool { return slices.Contains(QualityStatuses, s) }

// Disposition is the GS1 CBV disposition an inspection that sets s records.
func (s QualityStatus) Disposition() string {
	return map[QualityStatus]string{
		StatusApproved: "conformant", StatusRejected: "non_conformant", StatusRecalled: "recalled", StatusPending: "in_progress",
		StatusOnHold: "non_sellable_other",
	}[s]
}

// BizStep is the GS1 CBV business step of the event that sets s: a hold
// is "holding", everything else an inspection's outcome.
func (s QualityStatus) BizStep() string {
	if s == StatusOnHold {
		return "holding"
	}
	return "inspecting"
}

// qualityStatusList is "pending, approved, ..." for validation messages.
func qualityStatusList() string {
	names := make([]string, len(QualityStatuses))
	for i, s := range QualityStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Unusable says why a lot cannot be used (consumed, shipped, taken into a
// transformation).
type Unusable string

const (
	Usable           Unusable = ""
	UnusablePending  Unusable = "pending"
	UnusableOnHold   Unusable = "on_hold"
	UnusableRejected Unusable = "rejected"
	UnusableRecalled Unusable = "recalled"
	UnusableExpired  Unusable = "expired"
)

// Unusable is the one rule for using a lot: rejected, recalled and held
// lots never, pending (unreleased) lots only where no release is required,
// others not after their expiry date. The status comes first: it says more
// than the date. The consume statement (queries/batches.sql, ConsumeBatch)
// and the overview's lists repeat it in SQL; TestUsabilityRuleMatchesSQL
// keeps the consume statement in step.
func (s QualityStatus) Unusable(expiry *time.Time, today time.Time, rule Release) Unusable {
	switch {
	case s == StatusRejected:
		return UnusableRejected
	case s == StatusRecalled:
		return UnusableRecalled
	case s == StatusOnHold:
		return UnusableOnHold
	case s == StatusPending && rule == ReleaseRequired:
		return UnusablePending
	case expiry != nil && expiry.Before(dateOnly(today)):
		return UnusableExpired
	}
	return Usable
}

// Release says whether a lot must be released (approved) before use.
type Release bool

const (
	ReleaseRequired    Release = true
	ReleaseNotRequired Release = false
)

// Describe is the reason in words, for refusals and badges.
func (u Unusable) Describe() string {
	switch u {
	case UnusablePending:
		return "not released (pending)"
	case UnusableOnHold:
		return "on hold"
	case UnusableExpired:
		return "past its expiry date"
	}
	return string(u)
}
