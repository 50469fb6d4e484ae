package views

import "testing"

func TestEventsPageOffersUploadToOperators(t *testing.T) {
	tests := []struct {
		name  string
		ch    Chrome
		shown bool
	}{
		{"viewer", Chrome{User: "vera"}, false},
		{"operator", Chrome{User: "otto", Operator: true}, true},
		{"admin", Chrome{User: "ada", Admin: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderDoc(t, EventsPage(tt.ch, EventList{}))
			link := page.Find(`.page-head .actions a[data-testid="upload-epcis"]`)
			if got := link.Length() == 1; got != tt.shown {
				t.Fatalf("upload link shown = %v, want %v", got, tt.shown)
			}
			if tt.shown && link.AttrOr("href", "") != "/events/upload" {
				t.Errorf("upload link goes to %q, want /events/upload", link.AttrOr("href", ""))
			}
		})
	}
}
