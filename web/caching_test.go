package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/redistest"
	"batchtrack/web/cache"
)

// GET /api/events: MISS, then HIT; POST /api/events; the next GET is a
// MISS that includes the new event. Same for a batch and its consume.
func TestCachedReadsSeeEveryWrite(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/api/events?limit=5&batch_id=" + b.ID.String()
	xcache := func(path string) (string, listJSON[eventJSON]) {
		resp := a.do("GET", path, nil)
		return resp.Header.Get("X-Cache"), decode[listJSON[eventJSON]](t, resp)
	}
	if got, _ := xcache(path); got != "MISS" {
		t.Errorf("first GET: X-Cache %q", got)
	}
	got, before := xcache(path)
	if got != "HIT" || len(before.Items) != 1 {
		t.Fatalf("second GET: X-Cache %q, %d events", got, len(before.Items))
	}
	// The same query spelled differently shares the entry.
	if got, _ := xcache("/api/events?batch_id=" + b.ID.String() + "&limit=05"); got != "HIT" {
		t.Errorf("reordered query: X-Cache %q", got)
	}
	resp := a.do("POST", "/api/events", map[string]any{"event_type": "ObjectEvent", "action": "OBSERVE",
		"biz_step": "shipping", "batch_ids": []string{b.ID.String()}})
	if resp.StatusCode != 201 {
		t.Fatalf("POST event: %d %s", resp.StatusCode, readBody(t, resp))
	}
	got, after := xcache(path)
	if got != "MISS" || len(after.Items) != 2 || *after.Items[0].BizStep != "shipping" {
		t.Fatalf("after the write: X-Cache %q, %d events", got, len(after.Items))
	}

	detail := "/api/batches/" + b.ID.String()
	a.do("GET", detail, nil)
	if r := a.do("GET", detail, nil); r.Header.Get("X-Cache") != "HIT" || r.Header.Get("ETag") != `"v1"` {
		t.Fatalf("detail: X-Cache %q ETag %q", r.Header.Get("X-Cache"), r.Header.Get("ETag"))
	}
	a.do("POST", detail+"/consume", map[string]any{"quantity_to_consume": 4})
	r := a.do("GET", detail, nil)
	if r.Header.Get("X-Cache") != "MISS" || r.Header.Get("ETag") != `"v2"` || decode[batchJSON](t, r).QuantityAvailable.String() != "6" {
		t.Errorf("detail after consume: X-Cache %q ETag %q", r.Header.Get("X-Cache"), r.Header.Get("ETag"))
	}
	list := "/api/batches?product_id=" + b.ProductID.String()
	a.do("GET", list, nil)
	a.do("PATCH", detail, map[string]any{"notes": "checked"})
	if r := a.do("GET", list, nil); r.Header.Get("X-Cache") != "MISS" || decode[listJSON[batchJSON]](t, r).Items[0].Notes != "checked" {
		t.Errorf("list after patch: X-Cache %q", r.Header.Get("X-Cache"))
	}
}

func redisCache(t *testing.T, url string) *cache.Cache {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.MaxRetries = 200*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 0
	client := redis.NewClient(opts)
	c, err := cache.New(cache.Config{Enabled: true, Redis: client, ProbeInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = client.Close() })
	return c
}

// Two instances share one database and one Redis: a write through one is
// seen by the next read through the other (no local tier: the bound is
// zero). With Redis stopped reads keep working from the database.
func TestCacheSharedBetweenInstances(t *testing.T) {
	srv := redistest.Start(t)
	one := newTestApp(t, appOptions{cache: redisCache(t, srv.URL)})
	b := one.fixture("10")
	two := one.sibling(redisCache(t, srv.URL))

	detail := "/api/batches/" + b.ID.String()
	for i := range 2 {
		if r := two.do("GET", detail, nil); i == 1 && r.Header.Get("X-Cache") != "HIT" {
			t.Fatalf("second read on instance two: %q", r.Header.Get("X-Cache"))
		}
	}
	for i := 1; i <= 3; i++ {
		if r := one.do("POST", detail+"/consume", map[string]any{"quantity_to_consume": 1}); r.StatusCode != 200 {
			t.Fatalf("consume on one: %d", r.StatusCode)
		}
		got := decode[batchJSON](t, two.do("GET", detail, nil))
		if want := fmt.Sprint(10 - i); got.QuantityAvailable.String() != want {
			t.Fatalf("instance two read %s after consume %d on instance one, want %s", got.QuantityAvailable, i, want)
		}
	}
	if !srv.CanRestart() {
		t.Skip("TEST_REDIS_URL names a server this test cannot stop")
	}
	srv.Stop()
	for _, app := range []*testApp{one, two} {
		if r := app.do("GET", detail, nil); r.StatusCode != 200 || decode[batchJSON](t, r).QuantityAvailable.String() != "7" {
			t.Errorf("read during the outage: %d", r.StatusCode)
		}
	}
	one.do("POST", detail+"/consume", map[string]any{"quantity_to_consume": 1})
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		two.do("GET", detail, nil)
		r := two.do("GET", detail, nil)
		if r.Header.Get("X-Cache") == "HIT" {
			if got := decode[batchJSON](t, r).QuantityAvailable.String(); got != "6" {
				t.Fatalf("after Redis came back, instance two read %s, want 6", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sharing did not resume within 10s of Redis coming back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = context.Background()
}
