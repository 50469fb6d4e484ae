package views

import (
	"strconv"
	"strings"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// RecallsPage lists recall cases and mock recalls.
type RecallsPage struct {
	Recalls []inventory.Recall
	Mocks   []inventory.MockRecall
}

// RecallForm opens a recall or runs a mock recall: the lots, why, who
// decided. Impact is set once the form is valid and asks for confirmation.
type RecallForm struct {
	CSRF           string
	Lots           []RecallLotPick
	Reason         string
	Classification string
	DecidedBy      string
	Note           string // a mock recall's note
	Errors         FieldErrors
	Impact         *inventory.RecallImpact
}

// RecallLotPick is a lot chosen in the form: its id and how it reads.
type RecallLotPick struct {
	ID    string
	Label string
}

// RecallCasePage is a recall case with the forms staff use on it.
type RecallCasePage struct {
	CSRF     string
	Recall   inventory.Recall
	Recovery RecoveryForm
	Close    CloseRecallForm
}

// RecoveryForm records stock returned or destroyed against the case.
type RecoveryForm struct {
	Kind      string
	BatchID   string
	PartyID   string
	Quantity  string
	Note      string
	Errors    FieldErrors
	Problem   string
	Lots      []Option // the case's lot rows
	Customers []Option // the customers it reached
}

// CloseRecallForm closes the case.
type CloseRecallForm struct {
	Note   string
	Errors FieldErrors
}

// ClassificationOptions are the recall classes, in words.
var ClassificationOptions = []Option{
	{"unclassified", "Not yet classified"},
	{"class_i", "Class I: reasonable probability of serious health consequences or death"},
	{"class_ii", "Class II: temporary or reversible health consequences"},
	{"class_iii", "Class III: not likely to cause adverse health consequences"},
	{"market_withdrawal", "Market withdrawal: a minor issue, no violation"},
}

// ClassificationLabel is a classification's short name.
func ClassificationLabel(c string) string {
	switch c {
	case "class_i":
		return "Class I"
	case "class_ii":
		return "Class II"
	case "class_iii":
		return "Class III"
	case "market_withdrawal":
		return "Market withdrawal"
	case "unclassified":
		return "Not yet classified"
	}
	return c
}

// totalsText is "1,200 kg + 40 pieces", or "none".
func totalsText(ts []inventory.UnitTotal) string {
	if len(ts) == 0 {
		return "none"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = withUnit(t.Quantity, t.UOM)
	}
	return strings.Join(parts, " + ")
}

func durationText(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + " s"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
}

func recallLotHref(l inventory.RecallLot) string { return "/batches/" + l.BatchID.String() }

// mailto is a link that opens a notification e-mail to the customer.
func mailto(cu inventory.RecallCustomer) string {
	return "mailto:" + cu.Email + "?subject=Product%20recall"
}

// count is "1 customer" or "3 customers".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// wentOut is what left a lot row, by kind: "shipped 120 pieces, moved out 300 pieces".
func wentOut(l inventory.RecallLot) string {
	var parts []string
	for _, k := range []struct {
		what string
		q    quantity.Quantity
	}{{"shipped", l.Shipped}, {"consumed", l.Consumed}, {"transformed", l.Transformed}, {"destroyed", l.Destroyed},
		{"moved out", l.MovedOut}} {
		if k.q != 0 {
			parts = append(parts, k.what+" "+withUnit(k.q, l.UOM))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
