package ratelimit

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fasthttp"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted: the socket, whatever XFF says", "203.0.113.9", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"untrusted peer's XFF is ignored", "203.0.113.9", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"trusted peer without XFF", "10.0.0.5", nil, trusted, "10.0.0.5"},
		{"one trusted proxy", "10.0.0.5", []string{"1.2.3.4"}, trusted, "1.2.3.4"},
		{"a chain of trusted proxies", "10.0.0.5", []string{"1.2.3.4, 192.168.1.1, 10.1.1.1"}, trusted, "1.2.3.4"},
		{"client-written entries left of the real one are ignored", "10.0.0.5", []string{"6.6.6.6, 7.7.7.7, 1.2.3.4"}, trusted, "1.2.3.4"},
		{"several XFF fields are one list", "10.0.0.5", []string{"6.6.6.6, 1.2.3.4", "10.2.2.2"}, trusted, "1.2.3.4"},
		{"all hops trusted: the leftmost", "10.0.0.5", []string{"10.9.9.9, 10.8.8.8"}, trusted, "10.9.9.9"},
		{"garbage stops the walk at the last trusted hop", "10.0.0.5", []string{"1.2.3.4, nonsense, 10.8.8.8"}, trusted, "10.8.8.8"},
		{"ports and brackets", "10.0.0.5", []string{"[2001:db8::1]:443"}, trusted, "2001:db8::1"},
		{"IPv6 proxy", "fd00::1", []string{"2001:db8::2"}, trusted, "2001:db8::2"},
		{"IPv4-mapped peer", "::ffff:10.0.0.5", []string{"1.2.3.4"}, trusted, "1.2.3.4"},
	}
	app := fiber.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req fasthttp.Request
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			var fctx fasthttp.RequestCtx
			fctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(tt.peer), Port: 40000}, nil)
			c := app.AcquireCtx(&fctx)
			defer app.ReleaseCtx(c)
			if got := ClientIP(c, tt.trusted); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8,127.0.0.1 , ::1, 10.1.2.3/16,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "10.1.0.0/16"}
	var gotS []string
	for _, p := range got {
		gotS = append(gotS, p.String())
	}
	if diff := cmp.Diff(want, gotS); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTrustedProxies(%q) error = %v", bad, err)
		}
	}
}
