package peers_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/redistest"
	"batchtrack/web/peers"
)

func TestBoardSharesReadingsUntilTheyExpire(t *testing.T) {
	srv := redistest.Start(t)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	// Two instances, as two processes would: each with its own board.
	a, b := peers.New(client, time.Second), peers.New(client, 3*time.Second)
	now := time.Now()
	if err := a.Publish(ctx, peers.Reading{Instance: "app1", GeneratedAt: now, Requests: 100, RPS: 10, Errors: 1, P95: 20}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, peers.Reading{Instance: "app2", GeneratedAt: now, Requests: 300, RPS: 30, Errors: 2, P95: 45}); err != nil {
		t.Fatal(err)
	}
	all, err := a.All(ctx)
	if err != nil || len(all) != 2 || all[0].Instance != "app1" || all[1].Instance != "app2" {
		t.Fatalf("readings %+v, %v", all, err)
	}
	tot := peers.Total(all)
	if tot.Requests != 400 || tot.RPS != 40 || tot.Errors != 3 || tot.P95 != 45 {
		t.Fatalf("total %+v", tot)
	}
	// app1 stops publishing: it drops out when its entry expires.
	time.Sleep(1500 * time.Millisecond)
	all, err = b.All(ctx)
	if err != nil || len(all) != 1 || all[0].Instance != "app2" {
		t.Fatalf("after app1 expired: %+v, %v", all, err)
	}
}
