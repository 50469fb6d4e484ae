package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"batchtrack/db/embedded"
	"batchtrack/logtest"
)

// privateDataDir is a DATA_DIR the postgres user can reach when the tests
// run as root (t.TempDir is mode 0700).
func privateDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "batchtrack-main-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A fallback cluster lies outside dir.
		if got, err := embedded.Locate(filepath.Join(dir, ".data", "postgres")); err == nil {
			_ = os.RemoveAll(got)
		}
		_ = os.RemoveAll(dir)
	})
	return filepath.Join(dir, ".data")
}

// With no DATABASE_URL, serve runs the private cluster; the CLI run beside
// it uses that server instead of refusing, reset-data refuses while it
// runs, and the login box comes right after the "listening" line.
func TestCLIBesideServeOnPrivateCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private cluster")
	}
	dataDir := privateDataDir(t)
	addr := freeAddr(t)
	vars := map[string]string{"DATA_DIR": dataDir, "ADDR": addr, "SEED": "false", "LOG_LEVEL": "info",
		"ADMIN_EMAIL": "boss@example.com", "ADMIN_PASSWORD": "correct horse battery staple"}
	getenv := func(k string) string { return vars[k] }

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var console logtest.Buffer // stdout and stderr interleaved, as a terminal shows them
	go func() { done <- run(ctx, []string{"serve"}, getenv, nil, &console, &console) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of its context ending")
		}
	}
	t.Cleanup(stop)
	base := "http://" + addr
	for deadline := time.Now().Add(90 * time.Second); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(console.String(), "└") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 90s:\n%s", console.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The box follows the listening line, the last of start-up, directly
	// (request log lines may follow it).
	out := console.String()
	listening, box := strings.Index(out, "msg=listening"), strings.Index(out, "┌")
	if listening < 0 || box < listening || strings.Contains(out[listening:box], "\ntime=") {
		t.Errorf("want the box right after the listening line:\n%s", out)
	}
	if boxed := out[max(box, 0):]; !strings.Contains(boxed, "serving on http://"+addr) || !strings.Contains(boxed, "boss@example.com") {
		t.Errorf("box lacks the URL or the first admin:\n%s", boxed)
	}
	if !strings.Contains(out, "PUBLIC_URL is a loopback address") {
		t.Errorf("no warning about the loopback PUBLIC_URL:\n%s", out)
	}

	// The CLI beside the running server.
	var cliOut, cliErr logtest.Buffer
	if err := run(context.Background(), []string{"user", "add", "--email", "ana@example.com", "--role", "operator"},
		getenv, strings.NewReader("another long password\n"), &cliOut, &cliErr); err != nil {
		t.Fatalf("user add beside serve: %v\n%s", err, cliErr.String())
	}
	cliOut = logtest.Buffer{}
	if err := run(context.Background(), []string{"token", "create", "--user", "ana@example.com", "--name", "beside"},
		getenv, nil, &cliOut, &cliErr); err != nil {
		t.Fatalf("token create beside serve: %v\n%s", err, cliErr.String())
	}
	token := strings.TrimSpace(cliOut.String())
	req, _ := http.NewRequest(http.MethodGet, base+"/api/batches", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/batches with the token made beside serve: %d", resp.StatusCode)
	}
	// The CLI left the server running.
	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the CLI: %v", err)
	}

	err = run(context.Background(), []string{"reset-data", "--yes"}, getenv, nil, &cliOut, &cliErr)
	if !errors.Is(err, embedded.ErrRunning) {
		t.Errorf("reset-data while serve runs: %v, want ErrRunning", err)
	}
	stop()

	// Once stopped: the CLI starts the cluster itself, as before.
	cliOut = logtest.Buffer{}
	if err := run(context.Background(), []string{"user", "list"}, getenv, nil, &cliOut, &cliErr); err != nil || !strings.Contains(cliOut.String(), "ana@example.com") {
		t.Errorf("user list after serve stopped: %q, %v", cliOut.String(), err)
	}

	// reset-data asks for DATA_DIR's name, and deletes only when given it.
	clusterDir, err := embedded.Locate(filepath.Join(dataDir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		wantErr    bool
		wantExists bool
		wantOut    string
	}{
		{"wrong name", []string{"reset-data"}, "data\n", true, true, ""},
		{"no answer", []string{"reset-data"}, "", true, true, ""},
		{"typed name", []string{"reset-data"}, ".data\n", false, false, "deleted " + clusterDir},
		{"nothing left", []string{"reset-data", "--yes"}, "", false, false, "nothing to reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut logtest.Buffer
			err := run(context.Background(), tc.args, getenv, strings.NewReader(tc.stdin), &out, &errOut)
			if (err != nil) != tc.wantErr {
				t.Fatalf("reset-data: %v, want error %v", err, tc.wantErr)
			}
			if _, statErr := os.Stat(clusterDir); (statErr == nil) != tc.wantExists {
				t.Errorf("%s exists = %v, want %v", clusterDir, statErr == nil, tc.wantExists)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("printed %q, want %q", out.String(), tc.wantOut)
			}
		})
	}

	// reset-data never touches a database of DATABASE_URL.
	vars["DATABASE_URL"] = "postgres://somewhere/else"
	if err := run(context.Background(), []string{"reset-data", "--yes"}, getenv, nil, &cliOut, &cliErr); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("reset-data with DATABASE_URL: %v", err)
	}
}

func TestPrintBox(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"a"}, "┌───┐\n│ a │\n└───┘\n"},
		{[]string{"serving", "", "ü"}, "┌─────────┐\n│ serving │\n│         │\n│ ü       │\n└─────────┘\n"},
	} {
		var b strings.Builder
		printBox(&b, tc.lines)
		if b.String() != tc.want {
			t.Errorf("printBox(%q) =\n%s\nwant\n%s", tc.lines, b.String(), tc.want)
		}
	}
}
