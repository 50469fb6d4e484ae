package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/redistest"
	"batchtrack/web/peers"
)

// With a shared board, the dashboard names the instance that answered and
// adds up every instance's figures; /api/metrics carries the same.
func TestDashboardShowsTheCluster(t *testing.T) {
	srv := redistest.Start(t)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	board := peers.New(client, time.Minute)
	a := newTestApp(t, appOptions{instance: "app1", peers: board, recorderInterval: time.Second})
	ctx := context.Background()
	// Another instance's reading, as its own PublishReadings would put it.
	if err := board.Publish(ctx, peers.Reading{Instance: "app2", GeneratedAt: time.Now(), Requests: 600, RPS: 10, Errors: 6, P95: 80}); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.srv.PublishReadings(pctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, err := board.All(ctx)
		if err == nil && len(all) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("app1 never published: %v %v", all, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done

	resp := a.do("GET", "/dashboard", nil)
	_, doc := parseDoc(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	rows := testid(doc, "cluster-row")
	if rows.Length() != 2 {
		t.Fatalf("%d cluster rows, want app1 and app2", rows.Length())
	}
	this := testid(doc, "cluster-this").Parent()
	if !strings.Contains(this.Text(), "app1") {
		t.Errorf("the row marked as this page is %q", this.Text())
	}
	if total := testid(doc, "cluster-total").Text(); !strings.Contains(total, "All 2") || !strings.Contains(total, "80.0 ms") {
		t.Errorf("total row %q: want both instances and the worst P95", total)
	}
	snap := decode[snapshot](t, a.do("GET", "/api/metrics", nil))
	if snap.Cluster == nil || len(snap.Cluster.Instances) != 2 || snap.Cluster.Total.Requests < 600 {
		t.Fatalf("/api/metrics cluster %+v", snap.Cluster)
	}
}
