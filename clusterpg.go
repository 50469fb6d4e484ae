package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"batchtrack/db/embedded"
)

// runClusterPostgres runs the private PostgreSQL of scripts/cluster.sh in
// the foreground: the same system binaries and root handling as serve's
// private cluster, on a fixed port, until a signal or the server's exit.
// The TCP URL (with the generated password) goes to --url-file for the
// script's PgBouncer and migrations.
func runClusterPostgres(ctx context.Context, args []string, logger *slog.Logger, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster-postgres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "data directory")
	port := fs.Int("port", 5433, "TCP port on 127.0.0.1")
	urlFile := fs.String("url-file", "", "where to write the TCP connection URL (mode 0600)")
	maxConns := fs.String("max-connections", "100", "max_connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *urlFile == "" {
		return errors.New("cluster-postgres: --dir and --url-file are required")
	}
	cluster, err := embedded.Start(ctx, embedded.Options{DataDir: *dir, Port: *port, Logger: logger,
		Settings: map[string]string{"max_connections": *maxConns}})
	if err != nil {
		return err
	}
	stop := func() error {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return cluster.Stop(stopCtx)
	}
	if err := os.WriteFile(*urlFile, []byte(cluster.TCPURL()+"\n"), 0o600); err != nil {
		return errors.Join(err, stop())
	}
	select {
	case <-ctx.Done():
		return stop()
	case <-cluster.Exited():
		return fmt.Errorf("cluster-postgres: the server exited; see %s", cluster.LogPath())
	}
}
