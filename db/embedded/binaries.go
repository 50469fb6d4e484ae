package embedded

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries means the PostgreSQL server programs are not installed.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) were not found under /usr/lib/postgresql/*/bin or on PATH: install them with `apt-get install postgresql` (Debian/Ubuntu)")

// binaries are the server programs of one PostgreSQL installation; initdb
// and postgres must come from the same directory or the catalog versions
// would not match.
type binaries struct {
	dir      string
	initdb   string
	postgres string
	major    int // from the directory name when known, else 0
}

// installRoots are the globs packagers install versioned server binaries
// under: Debian/Ubuntu, then the PGDG RPMs.
var installRoots = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}

// findBinaries picks the server binaries to run. binDir, when set, wins.
// Otherwise the versioned install directories are preferred over PATH
// (Debian's PATH entries may be pg_wrapper scripts that want a system
// cluster), the one matching wantMajor (the data directory's PG_VERSION)
// first, then the highest version.
func findBinaries(binDir string, roots []string, pathEnv string, wantMajor int) (binaries, error) {
	if binDir != "" {
		b, ok := binariesIn(binDir)
		if !ok {
			return binaries{}, fmt.Errorf("%w (looked in %s)", ErrNoBinaries, binDir)
		}
		return b, nil
	}
	var found []binaries
	for _, root := range roots {
		dirs, _ := filepath.Glob(root)
		for _, d := range dirs {
			if b, ok := binariesIn(d); ok {
				found = append(found, b)
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].major > found[j].major })
	for _, b := range found {
		if b.major == wantMajor {
			return b, nil
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	// PATH entries are often symlinks into a versioned directory (this
	// machine's /usr/local/bin is); resolve them so both programs are
	// checked to live side by side.
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			continue
		}
		initdb, err := lookIn(d, "initdb")
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(initdb)
		if err != nil {
			continue
		}
		if b, ok := binariesIn(filepath.Dir(real)); ok {
			return b, nil
		}
	}
	return binaries{}, ErrNoBinaries
}

func binariesIn(dir string) (binaries, bool) {
	b := binaries{dir: dir}
	var err error
	if b.initdb, err = lookIn(dir, "initdb"); err != nil {
		return b, false
	}
	if b.postgres, err = lookIn(dir, "postgres"); err != nil {
		return b, false
	}
	b.major = majorFromDir(dir)
	return b, true
}

func lookIn(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", exec.ErrNotFound
	}
	return p, nil
}

// majorFromDir reads 15 from /usr/lib/postgresql/15/bin or /usr/pgsql-15/bin.
func majorFromDir(dir string) int {
	parts := strings.Split(filepath.ToSlash(dir), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		part := strings.TrimPrefix(parts[i], "pgsql-")
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}

// dataMajor reads the major version a data directory was initialized with,
// 0 when there is none.
func dataMajor(pgdata string) int {
	raw, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return n
}
