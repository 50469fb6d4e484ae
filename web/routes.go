package web

// routes registers every route of the app, in one list, each with the
// least role that may use it.
func (s *Server) routes() {
	app := s.app
	app.Use(s.withRequest, s.recoverPanic)

	app.Get("/healthz", s.public(s.showHealth))
	app.Get("/readyz", s.public(s.showReadiness))

	// GS1 Digital Link resolver: the URI in every batch's QR code.
	app.Get("/01/:gtin/10/:lot", s.viewer(s.resolveDigitalLink))

	// JSON API (api.md).
	api := app.Group("/api", s.withIdempotency)
	api.Get("/products", s.viewer(s.listProducts))
	api.Post("/products", s.operator(s.createProduct))
	api.Get("/products/:id", s.viewer(s.showProduct))

	api.Get("/locations", s.viewer(s.listLocations))
	api.Post("/locations", s.operator(s.createLocation))
	api.Get("/locations/:id", s.viewer(s.showLocation))

	api.Get("/batches", s.viewer(s.listBatches))
	api.Post("/batches", s.operator(s.createBatch))
	api.Post("/batches/consume", s.operator(s.consume))
	api.Get("/batches/:id", s.viewer(s.showBatch))
	api.Patch("/batches/:id", s.operator(s.patchBatch))
	api.Post("/batches/:id/consume", s.operator(s.consume))
	api.Post("/batches/:id/adjust", s.admin(s.adjustBatch))
	api.Get("/batches/:id/consumptions", s.viewer(s.listConsumptions))
	api.Get("/batches/:id/qr.png", s.viewer(s.showBatchQRPNG))
	api.Get("/batches/:id/qr.svg", s.viewer(s.showBatchQRSVG))
	api.Post("/consumptions", s.operator(s.consumeMany))

	api.Get("/events", s.viewer(s.listEvents))
	api.Post("/events", s.operator(s.createEvent))
	api.Get("/events/:id", s.viewer(s.showEvent))

	// Staff pages (server-rendered, htmx fragments).

	// Anything else: 404 in the caller's format.
	app.Use(s.notFound)
}
