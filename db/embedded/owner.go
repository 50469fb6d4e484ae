package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the account the server runs as. When we are root it is the
// postgres user (PostgreSQL refuses to run as root); otherwise it is us and
// cred is nil.
type serverUser struct {
	name   string
	uid    int
	gid    int
	groups []int
	cred   *syscall.Credential
}

func currentServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{name: "", uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, errors.New("PostgreSQL refuses to run as root and there is no postgres user to run it as: install the server with `apt-get install postgresql` (Debian/Ubuntu), which creates that user")
	}
	su := serverUser{name: u.Username}
	if su.uid, err = strconv.Atoi(u.Uid); err != nil {
		return serverUser{}, fmt.Errorf("postgres user uid %q: %w", u.Uid, err)
	}
	if su.gid, err = strconv.Atoi(u.Gid); err != nil {
		return serverUser{}, fmt.Errorf("postgres user gid %q: %w", u.Gid, err)
	}
	gids, _ := u.GroupIds()
	groups := []uint32{uint32(su.gid)}
	su.groups = []int{su.gid}
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil && n != su.gid {
			su.groups = append(su.groups, n)
			groups = append(groups, uint32(n))
		}
	}
	su.cred = &syscall.Credential{Uid: uint32(su.uid), Gid: uint32(su.gid), Groups: groups}
	return su, nil
}

// dropsPrivileges reports whether the server runs as another user than us.
func (u serverUser) dropsPrivileges() bool { return u.cred != nil }

// canTraverse reports whether u may search (execute) every existing
// directory on the way to path. The last component is excluded when it
// exists: we create or chown it for u ourselves. Directories still missing
// will be created by us with mode 0755, which u can traverse.
func (u serverUser) canTraverse(path string) bool {
	if !u.dropsPrivileges() {
		return true
	}
	existing := path
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return false
		}
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return false
	}
	dir := real
	if existing == path {
		dir = filepath.Dir(real)
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || !u.mayExecute(fi) {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// mayExecute applies the classic permission bits; ACLs are not consulted,
// so the answer errs on the side of "no", which only costs a fallback.
func (u serverUser) mayExecute(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	mode := fi.Mode().Perm()
	if int(st.Uid) == u.uid {
		return mode&0o100 != 0
	}
	for _, g := range u.groups {
		if int(st.Gid) == g {
			return mode&0o010 != 0
		}
	}
	return mode&0o001 != 0
}

// fallbackDir is where the data goes when u cannot reach the requested
// directory: under the postgres user's home on Debian/Ubuntu, else under the
// temporary directory. The name is derived from the requested path, so the
// same checkout finds its data again on the next start.
func (u serverUser) fallbackDir(requested string) string {
	name := pathHash(requested)
	home := "/var/lib/postgresql"
	if fi, err := os.Stat(home); err == nil && fi.IsDir() {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == u.uid && u.canTraverse(filepath.Join(home, "batchtrack")) {
			return filepath.Join(home, "batchtrack", name)
		}
	}
	return filepath.Join(os.TempDir(), "batchtrack-pg-"+name)
}

// ensureDir creates dir (mode 0700) and hands it to u. The contents are
// re-owned too when dir belonged to someone else, e.g. a data directory
// first created by an unprivileged run.
func (u serverUser) ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if !u.dropsPrivileges() {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == u.uid {
		return nil
	}
	return u.chownTree(dir)
}

func (u serverUser) chownTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
}

// owns reports whether path exists and belongs to u.
func (u serverUser) owns(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == u.uid
}

// pathHash names a directory derived from path.
func pathHash(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:8])
}
