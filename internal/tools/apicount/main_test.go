package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCountDir counts a small package: top-level names, methods of
// exported types only, interface methods, fields, and the std column.
func TestCountDir(t *testing.T) {
	dir := t.TempDir()
	src := `package p

type E struct{ Code int; hidden int }

func (E) Error() string   { return "" }
func (E) Unwrap() error   { return nil }
func (E) Retry() bool     { return false }
func (e *E) String() string { return "" }

type hiddenT struct{}

func (hiddenT) Error() string { return "" }

type I interface{ Do(); String() string }

const A, b = 1, 2

func New() *E { return nil }
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nfunc Helper() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ok, err := countDir(dir, dir)
	if err != nil || !ok {
		t.Fatalf("countDir: %v, %v", ok, err)
	}
	want := []string{"A", "E", "E.Error", "E.Retry", "E.String", "E.Unwrap", "I", "I.Do", "I.String", "New"}
	if !slices.Equal(c.names, want) {
		t.Errorf("names %v, want %v", c.names, want)
	}
	if c.Names != len(want) || c.Fields != 1 || c.Std != 3 {
		t.Errorf("names %d fields %d std %d, want %d 1 3", c.Names, c.Fields, c.Std, len(want))
	}
}
