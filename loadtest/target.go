package loadtest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckTarget validates a target URL and, unless allowRemote, refuses any
// host that is not loopback: the tool generates real load and must not be
// pointed at someone else's server by a slip of the keyboard. Names other
// than localhost are refused without resolving them, since DNS could
// answer differently at run time.
func CheckTarget(rawURL string, allowRemote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("target %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("target %q: scheme must be http or https", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("target %q: no host", rawURL)
	}
	if allowRemote || isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("target %q is not loopback (127.0.0.0/8, ::1, localhost); pass --allow-remote to load-test another host", rawURL)
}

func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
