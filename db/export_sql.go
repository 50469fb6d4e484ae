package db

// The list queries' SQL, for the tests that EXPLAIN them.
const (
	ListBatchesSQL         = listBatches
	ListEventsSQL          = listEvents
	ListBatchEventsSQL     = listBatchEvents
	ListConsumptionsSQL    = listConsumptions
	ListProductsSQL        = listProducts
	ListLocationsSQL       = listLocations
	ListTraceLinksSQL      = listTraceLinks
	ListBatchesByNumberSQL = listBatchesByNumber
	ListBatchesByExpirySQL = listBatchesByExpiry
)
