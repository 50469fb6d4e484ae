package web

// routes registers every route of the app, in one list.
func (s *Server) routes() {
	app := s.app
	app.Use(s.withRequest, s.recoverPanic)

	app.Get("/healthz", s.showHealth)
	app.Get("/readyz", s.showReadiness)

	// GS1 Digital Link resolver: the URI in every batch's QR code.
	app.Get("/01/:gtin/10/:lot", s.resolveDigitalLink)

	api := app.Group("/api", s.withIdempotency)
	api.Get("/products", s.listProducts)
	api.Post("/products", s.createProduct)
	api.Get("/products/:id", s.showProduct)

	api.Get("/locations", s.listLocations)
	api.Post("/locations", s.createLocation)
	api.Get("/locations/:id", s.showLocation)

	api.Get("/batches", s.listBatches)
	api.Post("/batches", s.createBatch)
	api.Post("/batches/consume", s.consume)
	api.Get("/batches/:id", s.showBatch)
	api.Patch("/batches/:id", s.patchBatch)
	api.Post("/batches/:id/consume", s.consume)
	api.Post("/batches/:id/adjust", s.adjustBatch)
	api.Get("/batches/:id/consumptions", s.listConsumptions)
	api.Get("/batches/:id/qr.png", s.showBatchQRPNG)
	api.Get("/batches/:id/qr.svg", s.showBatchQRSVG)
	api.Post("/consumptions", s.consumeMany)

	api.Get("/events", s.listEvents)
	api.Post("/events", s.createEvent)
	api.Get("/events/:id", s.showEvent)

	s.pageRoutes()

	// Anything else: 404 in the caller's format.
	app.Use(s.notFound)
}
