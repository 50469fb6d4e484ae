package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// Request is one HTTP request a run sends.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Tag is handed back to the Observer untouched (the suite puts the
	// batch and quantity of a consume here).
	Tag any
}

// responseInfo is what a run keeps of a response: the status and the
// headers the figures are built from; the body is drained and counted.
type responseInfo struct {
	status        int
	bytes         int64
	cache         cacheState
	hasRateLimit  bool
	rlLimit       int64
	rlRemaining   int64
	rlUnparsable  bool
	hasRetryAfter bool
}

type cacheState uint8

const (
	cacheAbsent cacheState = iota
	cacheHit
	cacheMiss
	cacheOther
)

func parseCacheHeader(v string) cacheState {
	switch v {
	case "":
		return cacheAbsent
	case "HIT", "hit", "Hit":
		return cacheHit
	case "MISS", "miss", "Miss":
		return cacheMiss
	}
	return cacheOther
}

// parseRateLimit fills the rate-limit fields from the raw header values.
func (ri *responseInfo) parseRateLimit(limit, remaining, retryAfter string) {
	ri.hasRetryAfter = retryAfter != ""
	if limit == "" && remaining == "" {
		return
	}
	ri.hasRateLimit = true
	l, err1 := strconv.ParseInt(limit, 10, 64)
	r, err2 := strconv.ParseInt(remaining, 10, 64)
	if err1 != nil || err2 != nil {
		ri.rlUnparsable = true
		return
	}
	ri.rlLimit, ri.rlRemaining = l, r
}

// sender is the HTTP side of a run. Requests are prepared once when the run
// has a fixed target so the hot path only copies them.
type sender interface {
	prepare(r Request) (prepared, error)
	send(ctx context.Context, p prepared) (responseInfo, error)
}

type prepared any

// netHTTPSender sends through net/http: the standard client, and the only choice
// when a caller supplies its own *http.Client.
type netHTTPSender struct {
	client *http.Client
}

type netHTTPPrepared struct {
	req  *http.Request
	body []byte
}

// newTunedHTTPClient returns a client whose idle pool matches the run's
// concurrency so every worker keeps its connection alive, and which does
// not follow redirects (a redirect is a response to measure, not to chase).
func newTunedHTTPClient(concurrency int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       0,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (s *netHTTPSender) prepare(r Request) (prepared, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, r.URL, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", "batchtrack-loadtest")
	}
	if host := r.Header.Get("Host"); host != "" {
		req.Host = host
	}
	return &netHTTPPrepared{req: req, body: r.Body}, nil
}

func (s *netHTTPSender) send(ctx context.Context, p prepared) (responseInfo, error) {
	np := p.(*netHTTPPrepared)
	// WithContext is a shallow copy: the header map is shared, which is safe
	// because the transport only reads it.
	req := np.req.WithContext(ctx)
	if np.body != nil {
		body := np.body
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return responseInfo{}, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return responseInfo{}, fmt.Errorf("reading body: %w", err)
	}
	ri := responseInfo{status: resp.StatusCode, bytes: n}
	h := resp.Header
	ri.cache = parseCacheHeader(headerValue(h, "X-Cache"))
	ri.parseRateLimit(headerValue(h, "X-Ratelimit-Limit"), headerValue(h, "X-Ratelimit-Remaining"), headerValue(h, "Retry-After"))
	return ri, nil
}

// headerValue reads a canonical key straight from the map, skipping
// Header.Get's canonicalisation on the hot path.
func headerValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// fastHTTPSender sends through fasthttp, whose allocation-free client is
// what lets the tool approach wrk's ceiling on a small machine.
type fastHTTPSender struct {
	client  *fasthttp.Client
	timeout time.Duration
}

func newFastHTTPSender(concurrency int, timeout time.Duration) *fastHTTPSender {
	return &fastHTTPSender{
		client: &fasthttp.Client{
			MaxConnsPerHost:               concurrency,
			ReadTimeout:                   timeout,
			WriteTimeout:                  timeout,
			MaxIdleConnDuration:           90 * time.Second,
			NoDefaultUserAgentHeader:      true,
			DisableHeaderNamesNormalizing: false,
			DisablePathNormalizing:        true,
			MaxConnWaitTimeout:            timeout,
		},
		timeout: timeout,
	}
}

func (s *fastHTTPSender) prepare(r Request) (prepared, error) {
	req := fasthttp.AcquireRequest()
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req.Header.SetMethod(method)
	req.SetRequestURI(r.URL)
	req.Header.Set("User-Agent", "batchtrack-loadtest")
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Body != nil {
		req.SetBody(r.Body)
	}
	return req, nil
}

func (s *fastHTTPSender) send(ctx context.Context, p prepared) (responseInfo, error) {
	tmpl := p.(*fasthttp.Request)
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	tmpl.CopyTo(req)
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = left
		}
	}
	if err := s.client.DoTimeout(req, resp, timeout); err != nil {
		return responseInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return responseInfo{}, err
	}
	ri := responseInfo{status: resp.StatusCode(), bytes: int64(len(resp.Body()))}
	ri.cache = parseCacheHeader(string(resp.Header.Peek("X-Cache")))
	ri.parseRateLimit(string(resp.Header.Peek("X-Ratelimit-Limit")), string(resp.Header.Peek("X-Ratelimit-Remaining")), string(resp.Header.Peek("Retry-After")))
	return ri, nil
}

// errorKind sorts a transport error into the few kinds worth counting apart.
func errorKind(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, fasthttp.ErrTimeout),
		errors.Is(err, fasthttp.ErrDialTimeout), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case isConnRefused(err):
		return "connection_refused"
	case isConnReset(err):
		return "connection_reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, fasthttp.ErrConnectionClosed):
		return "eof"
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no_free_connections"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "dns"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "net_" + opErr.Op
	}
	return "other"
}
