package loadtest

import "testing"

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		url         string
		allowRemote bool
		wantErr     bool
	}{
		{"http://127.0.0.1:3000/api/events", false, false},
		{"http://127.1.2.3/", false, false},
		{"http://localhost:8080", false, false},
		{"http://LOCALHOST./", false, false},
		{"http://[::1]:3000/", false, false},
		{"https://example.com/", false, true},
		{"http://10.0.0.1/", false, true},
		{"http://[::ffff:8.8.8.8]/", false, true},
		{"http://localhost.example.com/", false, true},
		{"http://192.168.1.1/", true, false},
		{"https://example.com/", true, false},
		{"ftp://127.0.0.1/", false, true},
		{"127.0.0.1:3000", false, true},
		{"http:///nohost", false, true},
	}
	for _, tt := range tests {
		err := CheckTarget(tt.url, tt.allowRemote)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckTarget(%q, %v) = %v, want error %v", tt.url, tt.allowRemote, err, tt.wantErr)
		}
	}
}
