// Command tracesql times the trace, the FSMA report and a mock recall run straight on
// PostgreSQL (the inventory service over a pgx pool, no HTTP), as the
// baseline bench/trace.sh sets beside the API's figures. It prints one
// JSON line: {"what", "n", "p50_ms", "p95_ms", ...}.
//
//	tracesql [-n 20] [-warmup 1] trace BATCH_ID [up|down|both]
//	tracesql [-n 20] [-warmup 1] fsma PRODUCT_ID FROM TO   (days: 2006-01-02)
//	tracesql [-n 20] [-warmup 1] mock-recall BATCH_ID
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/inventory"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tracesql:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tracesql", flag.ContinueOnError)
	n := fs.Int("n", 20, "timed iterations")
	warmup := fs.Int("warmup", 1, "untimed iterations first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) < 2 || *n < 1 {
		return errors.New("usage: tracesql [-n N] [-warmup N] trace BATCH_ID [direction] | fsma PRODUCT_ID FROM TO | mock-recall BATCH_ID")
	}
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("set DATABASE_URL")
	}
	pool, err := db.Open(ctx, url, db.PoolOptions{MaxConns: 4})
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := inventory.New(db.NewStore(pool), inventory.Options{})
	id, err := uuid.Parse(args[1])
	if err != nil {
		return err
	}
	var call func() (int, error) // the size of the answer: nodes, rows
	switch args[0] {
	case "trace":
		dir := inventory.TraceDown
		if len(args) > 2 {
			dir = args[2]
		}
		call = func() (int, error) {
			g, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{id}, Direction: dir})
			return len(g.Nodes), err
		}
	case "fsma":
		if len(args) != 4 {
			return errors.New("fsma needs PRODUCT_ID FROM TO")
		}
		from, err1 := time.Parse(time.DateOnly, args[2])
		to, err2 := time.Parse(time.DateOnly, args[3])
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		call = func() (int, error) {
			rep, err := svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &id, From: from, To: to})
			return len(rep.Rows), err
		}
	case "mock-recall":
		call = func() (int, error) {
			m, err := svc.MockRecall(ctx, inventory.System, []uuid.UUID{id}, "bench/tracesql")
			return m.Summary.Shipments, err
		}
	default:
		return fmt.Errorf("unknown measurement %q", args[0])
	}
	size := 0
	for range *warmup {
		if size, err = call(); err != nil {
			return err
		}
	}
	times := make([]time.Duration, *n)
	for i := range times {
		start := time.Now()
		if size, err = call(); err != nil {
			return err
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	ms := func(p float64) float64 {
		d := times[min(len(times)-1, int(float64(len(times))*p))]
		return float64(d.Microseconds()) / 1000
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"what": args[0], "n": *n, "size": size,
		"p50_ms": ms(0.50), "p95_ms": ms(0.95), "max_ms": float64(times[len(times)-1].Microseconds()) / 1000})
}
