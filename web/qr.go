package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"batchtrack/gs1"
)

// qrCacheControl: a code only changes with the batch's GTIN, lot or the
// public URL, and the ETag covers those; behind a login, so private.
const qrCacheControl = "private, max-age=86400"

// showBatchQRPNG serves the QR code of the batch's Digital Link as PNG.
func (s *Server) showBatchQRPNG(c *fiber.Ctx) error {
	size := min(max(c.QueryInt("size", 256), 64), 1024)
	code, current, err := s.batchQR(c, "png", strconv.Itoa(size))
	if err != nil || current {
		return err
	}
	png, err := code.PNG(size)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

// showBatchQRSVG serves the same code as SVG: crisp at any print size.
func (s *Server) showBatchQRSVG(c *fiber.Ctx) error {
	code, current, err := s.batchQR(c, "svg")
	if err != nil || current {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.SendString(qrSVG(code))
}

// batchQR is the batch's code, or current (a 304 sent) when the client's
// copy is still right.
func (s *Server) batchQR(c *fiber.Ctx, variant ...string) (*qrcode.QRCode, bool, error) {
	id, err := pathUUID(c, "id")
	if err != nil {
		return nil, false, err
	}
	b, err := s.deps.Inventory.GetBatch(c.UserContext(), id)
	if err != nil {
		return nil, false, err
	}
	link := s.digitalLink(b)
	if notModified(c, contentTag(append([]string{link}, variant...)...), b.CreatedAt, qrCacheControl) {
		return nil, true, c.SendStatus(fiber.StatusNotModified)
	}
	code, err := qrcode.New(link, qrcode.Medium)
	return code, false, err
}

// qrSVG draws the code's modules as one path, one unit per module.
func qrSVG(code *qrcode.QRCode) string {
	bits := code.Bitmap()
	n := len(bits)
	var path strings.Builder
	for y, row := range bits {
		for x, on := range row {
			if on {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, n, n, path.String())
}

// resolveDigitalLink answers the batch's GS1 Digital Link URI: the app is
// its own resolver, sending people to the batch's page and scripts that
// ask for JSON to the API. A serial-level link (/21/...) resolves to its
// lot; an invalid query string (an AI twice, a bad value) is 400.
func (s *Server) resolveDigitalLink(c *fiber.Ctx) error {
	if err := gs1.CheckDigitalLinkQuery(string(c.Request().URI().QueryString())); err != nil {
		return newProblem("invalid-digital-link", "This link is not a valid GS1 Digital Link: "+err.Error()+".")
	}
	id, err := s.deps.Inventory.FindBatchByDigitalLink(c.UserContext(), c.Params("gtin"), c.Params("lot"))
	if err != nil {
		return err
	}
	target := "/batches/" + id.String()
	if strings.Contains(c.Get(fiber.HeaderAccept), "application/json") {
		target = "/api/batches/" + id.String()
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}
