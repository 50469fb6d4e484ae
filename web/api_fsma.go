package web

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/fsma"
	"batchtrack/inventory"
)

// fsmaQuery reads the spreadsheet's parameters: a product or a TLC, the
// days and the format.
func fsmaQuery(q *query) (inventory.FSMARequest, string) {
	r := inventory.FSMARequest{ProductID: q.uuid("product_id"), GTIN: q.str("gtin"), Lot: q.str("lot")}
	if from := q.date("from"); from != nil {
		r.From = *from
	}
	if to := q.date("to"); to != nil {
		r.To = *to
	}
	format := strings.ToLower(q.str("format"))
	switch format {
	case "":
		format = fsma.CSV
	case fsma.CSV, fsma.XLSX:
	default:
		q.err.Add("format", "must be csv or xlsx")
	}
	return r, format
}

// showFSMASpreadsheet sends the FSMA 204 sortable spreadsheet as a file.
func (s *Server) showFSMASpreadsheet(c *fiber.Ctx) error {
	q := newQuery(c)
	r, format := fsmaQuery(q)
	if err := q.done(); err != nil {
		return err
	}
	return s.sendFSMA(c, r, format)
}

// sendFSMA builds the report and writes it whole before sending: a failure
// half-way is an error response, never half a file.
func (s *Server) sendFSMA(c *fiber.Ctx, r inventory.FSMARequest, format string) error {
	rep, err := s.deps.Inventory.FSMAReport(c.UserContext(), r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	contentType := fsma.CSVType
	if format == fsma.XLSX {
		contentType = fsma.XLSXType
		err = fsma.WriteXLSX(&buf, rep.Rows)
	} else {
		err = fsma.WriteCSV(&buf, rep.Rows)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+fsmaFilename(rep.Request)+"."+format+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusOK).Send(buf.Bytes())
}

// fsmaFilename names the file after what it covers: fsma204-{gtin}-{lot}
// or fsma204-product-{id}, then the days.
func fsmaFilename(r inventory.FSMARequest) string {
	name := "fsma204-"
	if r.ProductID != nil {
		name += "product-" + r.ProductID.String()
	} else {
		name += r.GTIN + "-" + safeFilePart(r.Lot)
	}
	return name + "-" + r.From.Format("20060102") + "-" + r.To.Format("20060102")
}

// safeFilePart keeps a lot code's letters, digits, dot, dash and underscore.
func safeFilePart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
