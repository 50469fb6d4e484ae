// Package epcistest finds GS1's official EPCIS files for tests and
// compiles the official JSON schema. The files stay in ../shared/gs1
// beside the checkout, never in the project: without them a test skips.
package epcistest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is ../shared/gs1 beside the repository root, or the test is
// skipped with the reason.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := Find()
	if err != nil {
		t.Skipf("the official GS1 files are not available (the shared/gs1 folder beside the checkout): %v: skipped", err)
	}
	return dir
}

// Find walks up from the working directory to go.mod, then to
// ../shared/gs1.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the package")
		}
		dir = parent
	}
	gs1 := filepath.Join(dir, "..", "shared", "gs1")
	if _, err := os.Stat(gs1); err != nil {
		return "", err
	}
	return gs1, nil
}

// OfficialSchema compiles the EPCIS 2.0 JSON schema with format
// assertions, uri included.
func OfficialSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), "epcis", "EPCIS-JSON-Schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseRegexpEngine(lookaheadRegexp)
	const id = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Validate checks JSON bytes against a schema.
func Validate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// negatedRegexp matches what its regexp does not: Go's RE2 has no
// lookahead, and the schema's only lookaheads are whole "^(?!(...))".
type negatedRegexp struct {
	source string
	re     *regexp.Regexp
}

func (r negatedRegexp) MatchString(s string) bool { return !r.re.MatchString(s) }
func (r negatedRegexp) String() string            { return r.source }

func lookaheadRegexp(s string) (jsonschema.Regexp, error) {
	if inner, ok := strings.CutPrefix(s, "^(?!"); ok && strings.HasSuffix(inner, ")") {
		re, err := regexp.Compile("^(?:" + strings.TrimSuffix(inner, ")") + ")")
		return negatedRegexp{s, re}, err
	}
	return regexp.Compile(s)
}
