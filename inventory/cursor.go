package inventory

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// cursor is the keyset position after which a page starts. It travels as
// opaque base64url JSON so it can grow fields without breaking clients.
type cursor struct {
	Time    *time.Time `json:"t,omitempty"`
	Name    *string    `json:"n,omitempty"`
	Version *int64     `json:"v,omitempty"`
	ID      uuid.UUID  `json:"id"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor; "" is the first page. need says which
// position field the list sorts by ("t", "n" or "v").
func decodeCursor(s, need string, v *ValidationError) *cursor {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	ok := err == nil && c.ID != uuid.Nil
	switch need {
	case "t":
		ok = ok && c.Time != nil
	case "n":
		ok = ok && c.Name != nil
	case "v":
		ok = ok && c.Version != nil
	}
	if !ok {
		v.Add("cursor", "is not a cursor from this list")
		return nil
	}
	return &c
}

// pageOf turns rows fetched with limit+1 into a page of at most limit
// items, converted by item; when there were more, the cursor after the
// last item shown comes from next.
func pageOf[R, T any](rows []R, limit int32, item func(R) T, next func(last T) string) Page[T] {
	page := Page[T]{Items: make([]T, 0, min(len(rows), int(limit)))}
	for i, r := range rows {
		if i == int(limit) {
			page.NextCursor = next(page.Items[i-1])
			break
		}
		page.Items = append(page.Items, item(r))
	}
	return page
}
