package web

// routes registers every route of the app, in one list, each with the
// least role that may use it.
func (s *Server) routes() {
	app := s.app
	app.Use(s.withRequest, s.recoverPanic)
	// Security headers on every response; then who the caller is (token or
	// session; the guards below decide), then CSRF for session writes.
	// Text that could not be stored (invalid UTF-8, NUL, control
	// characters) is refused up front, wherever in the URL or form it is.
	app.Use(s.securityHeaders, s.checkInputText, s.authenticate, s.checkCSRF)

	app.Get("/healthz", s.public(s.showHealth))
	app.Get("/readyz", s.public(s.showReadiness))

	// GS1 Digital Link resolver: the URI in every batch's QR code.
	app.Get("/01/:gtin/10/:lot", s.viewer(s.resolveDigitalLink))
	app.Get("/01/:gtin/10/:lot/21/:serial", s.viewer(s.resolveDigitalLink))

	// JSON API (api.md).
	// Writes run once per Idempotency-Key (once, after the role check: an
	// anonymous request keeps nothing).
	api := app.Group("/api", s.limitAPI())
	api.Get("/products", s.viewer(s.listProducts))
	api.Post("/products", s.operator(s.once(s.createProduct)))
	api.Get("/products/:id", s.viewer(s.showProduct))

	api.Get("/locations", s.viewer(s.listLocations))
	api.Post("/locations", s.operator(s.once(s.createLocation)))
	api.Get("/locations/:id", s.viewer(s.showLocation))
	api.Patch("/locations/:id", s.operator(s.once(s.patchLocation)))

	api.Get("/parties", s.viewer(s.listParties))
	api.Post("/parties", s.operator(s.once(s.createParty)))
	api.Post("/parties/import", s.operator(s.once(s.importParties)))
	api.Get("/parties/:id", s.viewer(s.showParty))
	api.Patch("/parties/:id", s.operator(s.once(s.patchParty)))

	api.Get("/batches", s.viewer(s.listBatches))
	api.Post("/batches", s.operator(s.once(s.createBatch)))
	api.Post("/batches/consume", s.operator(s.once(s.consume)))
	api.Get("/batches/:id", s.viewer(s.showBatch))
	api.Patch("/batches/:id", s.operator(s.once(s.patchBatch)))
	api.Post("/batches/:id/consume", s.operator(s.once(s.consume)))
	api.Post("/batches/:id/adjust", s.admin(s.once(s.adjustBatch)))
	api.Get("/batches/:id/consumptions", s.viewer(s.listConsumptions))
	api.Get("/batches/:id/qr.png", s.viewer(s.showBatchQRPNG))
	api.Get("/batches/:id/qr.svg", s.viewer(s.showBatchQRSVG))
	api.Post("/consumptions", s.operator(s.once(s.consumeMany)))
	api.Get("/batches/:id/balance", s.viewer(s.showBatchBalance))
	api.Get("/products/:id/fefo", s.viewer(s.showFEFO))
	api.Get("/batches/:id/trace", s.viewer(s.showBatchTrace))
	api.Get("/trace", s.viewer(s.showLotTrace))

	// Stock movements: one EPCIS event and its ledger rows each.
	api.Post("/receipts", s.operator(s.once(s.createReceipt)))
	api.Post("/shipments", s.operator(s.once(s.createShipment)))
	api.Post("/transformations", s.operator(s.once(s.createTransformation)))
	api.Post("/destructions", s.operator(s.once(s.createDestruction)))
	api.Post("/commissions", s.operator(s.once(s.createCommission)))
	api.Post("/moves", s.operator(s.once(s.createMove)))
	api.Post("/events/:id/corrections", s.operator(s.once(s.correctEvent)))

	// Recalls: the impact report, mock recalls, recall cases.
	api.Post("/recalls/impact", s.viewer(s.showRecallImpact))
	api.Post("/mock-recalls", s.admin(s.once(s.createMockRecall)))
	api.Get("/mock-recalls", s.viewer(s.listMockRecalls))
	api.Get("/mock-recalls/:id", s.viewer(s.showMockRecall))
	api.Post("/recalls", s.admin(s.once(s.createRecall)))
	api.Get("/recalls", s.viewer(s.listRecalls))
	api.Get("/recalls/:id", s.viewer(s.showRecall))
	api.Get("/recalls/:id/report.csv", s.viewer(s.exportRecallCSV))
	api.Post("/recalls/:id/recoveries", s.operator(s.once(s.createRecovery)))
	api.Post("/recalls/:id/close", s.admin(s.once(s.closeRecall)))

	api.Get("/events", s.viewer(s.listEvents))
	api.Post("/events", s.operator(s.once(s.createEvent)))
	api.Get("/events/:id", s.viewer(s.showEvent))
	api.Get("/fsma/spreadsheet", s.viewer(s.showFSMASpreadsheet))
	api.Get("/fsma204", s.viewer(s.showFSMASpreadsheet)) // api.md's name for the same

	// EPCIS 2.0 REST binding (GS1's openapi.yaml): standard capture and
	// query over the same store, the same tokens, roles and rate limits.
	ep := app.Group("/epcis", s.withEPCISHeaders, s.limitAPI())
	ep.Get("/", s.viewer(s.showEPCISTopLevel))
	ep.Options("/capture", s.viewer(s.showCaptureOptions))
	ep.Post("/capture", s.operator(s.once(s.captureDocument)))
	ep.Get("/capture", s.viewer(s.listCaptureJobs))
	ep.Get("/capture/:captureID", s.viewer(s.showCaptureJob))
	ep.Options("/events", s.viewer(s.showEventsOptions))
	ep.Get("/events", s.viewer(s.queryEvents))
	ep.Post("/events", s.operator(s.once(s.captureEvent)))
	ep.Get("/events/:eventID", s.viewer(s.showEPCISEvent))

	// Staff pages (server-rendered, htmx fragments).
	app.Use(s.attachAssets)
	app.Get("/static/*", s.public(s.serveStatic))
	app.Get("/", s.viewer(s.showOverview))
	app.Get("/batches", s.viewer(s.showBatches))
	app.Get("/batches.csv", s.viewer(s.exportBatchesCSV))
	app.Get("/batches/new", s.operator(s.showNewBatch))
	app.Post("/batches", s.operator(s.createBatchFromForm))
	app.Get("/batches/import", s.operator(s.showImport))
	app.Post("/batches/import/preview", s.operator(s.previewImport))
	app.Post("/batches/import", s.operator(s.commitImport))
	app.Get("/batches/:id", s.viewer(s.showBatchPage))
	app.Get("/batches/:id/balance", s.viewer(s.showBalance))
	app.Get("/batches/:id/trace", s.viewer(s.showTracePage))
	app.Post("/batches/:id/consume", s.operator(s.consumeFromForm))
	app.Get("/batches/:id/edit", s.operator(s.showEditBatch))
	app.Post("/batches/:id/edit", s.operator(s.saveBatch))
	app.Post("/batches/:id/approve", s.operator(s.approveBatch))
	app.Post("/batches/:id/reject", s.operator(s.rejectBatch))
	app.Post("/batches/:id/recall", s.admin(s.recallBatch))
	app.Post("/batches/:id/hold", s.operator(s.holdBatch))
	app.Post("/batches/:id/destroy", s.operator(s.destroyFromForm))
	app.Get("/stock/commission", s.operator(s.showCommission))
	app.Post("/stock/commission", s.operator(s.commissionFromForm))
	app.Get("/batches/:id/label", s.viewer(s.showLabel))
	app.Get("/labels", s.viewer(s.showLabelSheet))
	app.Get("/events", s.viewer(s.showEvents))
	app.Get("/events.csv", s.viewer(s.exportEventsCSV))
	app.Get("/fsma", s.viewer(s.showFSMAPage))
	app.Get("/events/new", s.operator(s.showNewEvent))
	app.Post("/events", s.operator(s.recordEventFromForm))
	app.Get("/events/upload", s.operator(s.showCaptureUpload))
	app.Post("/events/upload", s.operator(s.uploadCapture))
	app.Get("/events/upload/:id", s.viewer(s.showCaptureJobPage))
	app.Get("/events/:id", s.viewer(s.showEventPage))
	app.Post("/events/:id/correct", s.operator(s.correctEventFromForm))
	app.Get("/recalls", s.viewer(s.showRecallsPage))
	app.Get("/recalls/new", s.admin(s.showNewRecall))
	app.Post("/recalls/preview", s.admin(s.previewRecall))
	app.Post("/recalls/mock", s.admin(s.mockRecallFromForm))
	app.Post("/recalls", s.admin(s.openRecallFromForm))
	app.Get("/recalls/:id", s.viewer(s.showRecallPage))
	app.Get("/recalls/:id/report.csv", s.viewer(s.exportRecallCSV))
	app.Post("/recalls/:id/recoveries", s.operator(s.recordRecoveryFromForm))
	app.Post("/recalls/:id/close", s.admin(s.closeRecallFromForm))
	app.Get("/mock-recalls/:id", s.viewer(s.showMockRecallPage))
	app.Get("/stock/receive", s.operator(s.showReceiveForm))
	app.Post("/stock/receive", s.operator(s.receiveFromForm))
	app.Get("/stock/ship", s.operator(s.showShipForm))
	app.Post("/stock/ship", s.operator(s.shipFromForm))
	app.Get("/stock/transform", s.operator(s.showTransformForm))
	app.Post("/stock/transform", s.operator(s.transformFromForm))
	app.Get("/stock/move", s.operator(s.showMoveForm))
	app.Post("/stock/move", s.operator(s.moveFromForm))
	app.Get("/pickers/lots", s.operator(s.showLotPicker))
	app.Get("/pickers/locations", s.operator(s.showLocationPicker))
	app.Get("/pickers/fefo", s.operator(s.showFEFORows))
	app.Get("/products", s.viewer(s.showProducts))
	app.Get("/products/new", s.operator(s.showNewProduct))
	app.Post("/products", s.operator(s.createProductFromForm))
	app.Get("/locations", s.viewer(s.showLocations))
	app.Get("/locations/new", s.operator(s.showNewLocation))
	app.Post("/locations", s.operator(s.createLocationFromForm))
	app.Get("/locations/:id/edit", s.operator(s.showEditLocation))
	app.Post("/locations/:id/edit", s.operator(s.saveLocation))
	app.Get("/parties", s.viewer(s.showParties))
	app.Get("/parties/new", s.operator(s.showNewParty))
	app.Post("/parties", s.operator(s.createPartyFromForm))
	app.Get("/parties/import", s.operator(s.showPartyImport))
	app.Post("/parties/import/preview", s.operator(s.previewPartyImport))
	app.Post("/parties/import", s.operator(s.commitPartyImport))
	app.Get("/parties/:id", s.viewer(s.showPartyPage))
	app.Get("/parties/:id/edit", s.operator(s.showEditParty))
	app.Post("/parties/:id/edit", s.operator(s.saveParty))

	// Operations: the dashboard and its live parts, Prometheus scrapes
	// (admins; a scraper sends an admin's API token as Authorization:
	// Bearer ...) and the dashboard's figures as JSON.
	app.Get("/dashboard", s.viewer(s.showOpsDashboard))
	app.Get("/dashboard/live", s.viewer(s.showDashboardLive))
	app.Get("/metrics", s.admin(s.showPrometheusMetrics))
	api.Get("/metrics", s.viewer(s.showMetricsSnapshot))

	// Accounts: login, logout, users and API tokens.
	app.Get("/login", s.public(s.showLoginPage))
	app.Post("/login", s.public(s.login))
	app.Post("/logout", s.viewer(s.logout))
	app.Get("/admin/users", s.admin(s.showUsersPage))
	app.Post("/admin/users", s.admin(s.createUser))
	app.Post("/admin/users/:id", s.admin(s.updateUser))
	app.Post("/admin/users/:id/password", s.admin(s.resetPassword))
	app.Get("/admin/tokens", s.admin(s.showTokensPage))
	app.Post("/admin/tokens", s.admin(s.createToken))
	app.Post("/admin/tokens/:id/revoke", s.admin(s.revokeToken))
	app.Post("/admin/tokens/:id/limits", s.admin(s.setTokenLimits))

	// Anything else: 404 in the caller's format.
	app.Use(s.notFound)
}
