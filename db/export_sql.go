package db

// Queries' SQL for the tests that EXPLAIN them and for bench/consumesql.
const (
	ListBatchesSQL         = listBatches
	ListEventsSQL          = listEvents
	ListBatchEventsSQL     = listBatchEvents
	ListConsumptionsSQL    = listConsumptions
	ListProductsSQL        = listProducts
	ListLocationsSQL       = listLocations
	ListTraceLinksSQL      = listTraceLinks
	LockBatchForConsumeSQL = lockBatchForConsume
	ConsumeBatchSQL        = consumeBatch
	LotsByNumberSQL        = lotsByNumber
	BatchByDigitalLinkSQL  = getBatchByDigitalLink
)
