package loadtest

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkRunClosedLoop measures the tool's cost per request against a
// trivial in-process endpoint, per client.
func BenchmarkRunClosedLoop(b *testing.B) {
	srv := startServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	for _, client := range clients {
		b.Run(client, func(b *testing.B) {
			b.ReportAllocs()
			sum, err := Run(context.Background(), Options{
				Target: Request{URL: srv.URL}, Concurrency: 10, MaxRequests: int64(max(b.N, 1)), Client: client,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(sum.ThroughputRPS, "req/s")
		})
	}
}
