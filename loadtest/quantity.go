package loadtest

import "batchtrack/quantity"

// Quantity is the app's exact decimal (thousandths): a ledger check done in
// floating point could hide, or invent, a lost thousandth.
type Quantity = quantity.Quantity

// ParseQuantity parses a decimal string such as "12", "-0.5" or "12.125".
func ParseQuantity(s string) (Quantity, error) { return quantity.Parse(s) }
