package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"batchtrack/db/embedded"
)

// resetData is `batchtrack reset-data`: it deletes the private cluster
// (wherever the fallback put it) after the user types DATA_DIR's name, or
// with --yes; never while a server runs on it.
func resetData(args []string, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reset-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("reset-data: DATABASE_URL is set; reset-data only deletes the private cluster, not a database you run yourself")
	}
	requested, err := clusterDir(cfg)
	if err != nil {
		return err
	}
	dir, err := embedded.Locate(requested)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "nothing to reset: there is no private data in %s\n", dir)
		return nil
	}
	if err := embedded.CheckStopped(requested); err != nil {
		return fmt.Errorf("reset-data: stop batchtrack serve first: %w", err)
	}
	if !*yes {
		name := filepath.Base(filepath.Dir(requested))
		fmt.Fprintf(stderr, "This deletes the private PostgreSQL cluster in %s:\nevery batch, event, account and API token in it.\nType %s to confirm: ", dir, name)
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if strings.TrimSpace(line) != name {
			return errors.New("reset-data: not confirmed; nothing was deleted")
		}
	}
	removed, err := embedded.Remove(requested)
	if err != nil {
		return fmt.Errorf("reset-data: %w", err)
	}
	fmt.Fprintf(stdout, "deleted %s; the next start creates a new cluster (with demo data unless SEED=false)\n", removed)
	return nil
}
