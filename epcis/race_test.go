//go:build race

package epcis

// raceEnabled: the race detector slows the exhaustive tests tenfold, so
// they sample.
const raceEnabled = true
