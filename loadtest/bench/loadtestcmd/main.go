// Command loadtestcmd runs batchtrack's load tester on its own, for the
// benchmark script, before (or without) the main binary's subcommand.
package main

import (
	"context"
	"os"
	"os/signal"

	"batchtrack/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := loadtest.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
