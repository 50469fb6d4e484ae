// Package static holds the staff pages' CSS, JavaScript and images,
// embedded in the binary, with content-hashed URLs so browsers may cache
// them for a year and still see a new release at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"
)

// Files are our own assets plus the npm packages scripts/copy-assets.sh
// copied into vendor/ (committed; `make check` keeps them equal to what
// package-lock.json gives).
//
//go:embed *.css *.js *.svg vendor
var Files embed.FS

// Prefix is where the files are served.
const Prefix = "/static/"

// File is one asset ready to serve.
type File struct {
	Name        string // path under static/, e.g. "app.css"
	URL         string // fingerprinted URL, e.g. "/static/app.3f9a1c2b7d.css"
	ContentType string
	ETag        string // strong, from the content hash
	Body        []byte
}

// Assets maps asset names to their fingerprinted URLs and back.
type Assets struct {
	byName map[string]*File
	byPath map[string]*File // both the plain and the fingerprinted path
}

// New reads the embedded files.
func New() (*Assets, error) { return NewFS(Files) }

// NewFS hashes every file of fsys (dotfiles skipped).
func NewFS(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*File{}, byPath: map[string]*File{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		f := &File{
			Name:        p,
			URL:         Prefix + fingerprint(p, hash[:10]),
			ContentType: contentType(p),
			ETag:        `"` + hash[:20] + `"`,
			Body:        body,
		}
		a.byName[p] = f
		a.byPath[Prefix+p] = f
		a.byPath[f.URL] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	return a, nil
}

// fingerprint puts the hash before the extension: vendor/htmx.min.js ->
// vendor/htmx.min.3f9a1c2b7d.js.
func fingerprint(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// URL is the fingerprinted URL of a named asset. An unknown name gets its
// plain path, which the server answers with 404: a typo shows up in tests.
func (a *Assets) URL(name string) string {
	if f, ok := a.byName[name]; ok {
		return f.URL
	}
	return Prefix + name
}

// Lookup finds the file served at urlPath. immutable is true for the
// fingerprinted path, whose content can never change.
func (a *Assets) Lookup(urlPath string) (f *File, immutable, ok bool) {
	f, ok = a.byPath[urlPath]
	if !ok {
		return nil, false, false
	}
	return f, urlPath == f.URL, true
}

// Names lists the asset names, sorted.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
