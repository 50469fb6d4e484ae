package web

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/fsma"
	"batchtrack/inventory"
	"batchtrack/views"
)

// showFSMAPage shows the spreadsheet form; submitted (download=1), it sends
// the file, or shows the form again with its errors and the entries kept.
func (s *Server) showFSMAPage(c *fiber.Ctx) error {
	products, err := s.productChoices(c.UserContext())
	if err != nil {
		return err
	}
	today := time.Now().UTC()
	f := views.FSMAForm{Products: products, Format: fsma.XLSX, Errors: views.FieldErrors{},
		From: today.AddDate(0, 0, -30).Format(time.DateOnly), To: today.Format(time.DateOnly)}
	ch := chromeFor(c, "FSMA 204 spreadsheet", "events")
	if c.Query("download") == "" {
		return render(c, fiber.StatusOK, views.FSMAPage(ch, f))
	}
	q := newQuery(c)
	q.str("download")
	f.ProductID, f.GTIN, f.Lot = q.str("product_id"), q.str("gtin"), q.str("lot")
	f.From, f.To, f.Format = q.str("from"), q.str("to"), q.str("format")
	r, format := fsmaQuery(q)
	q.unknownTo(f.Errors)
	for k, v := range views.FromValidation(q.err.Fields) {
		f.Errors.Add(k, v)
	}
	if f.Errors.Any() {
		return render(c, fiber.StatusUnprocessableEntity, views.FSMAPage(ch, f))
	}
	err = s.sendFSMA(c, r, format)
	var ve *inventory.ValidationError
	var nf *inventory.NotFoundError
	switch {
	case errors.As(err, &ve):
		f.Errors = views.FromValidation(ve.Fields)
		return render(c, fiber.StatusUnprocessableEntity, views.FSMAPage(ch, f))
	case errors.As(err, &nf):
		field := nf.Field
		if field == "" {
			field = "lot"
		}
		f.Errors.Add(field, nf.Sentence())
		return render(c, fiber.StatusNotFound, views.FSMAPage(ch, f))
	}
	return err
}
