package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoLongFunctions fails on any function of the module, outside tests,
// bench/ and scratch/, over maxLines lines, and lists them all.
func TestNoLongFunctions(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	found, err := longFuncs(root, maxLines)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		var b strings.Builder
		for _, l := range found {
			b.WriteString("\n\t" + l.String())
		}
		t.Errorf("%d functions are over %d lines; split them into named phases or helpers:%s", len(found), maxLines, b.String())
	}
}

// TestLongFuncs checks the counting on a small tree: lines from func to
// the closing brace, methods named with their receiver, tests, bench/,
// scratch/ and nested modules left out.
func TestLongFuncs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	body := func(name string, lines int) string { // a function of exactly lines lines
		return "func " + name + " {\n" + strings.Repeat("\t_ = 0\n", lines-2) + "}\n"
	}
	files := map[string]string{
		"go.mod":                "module example.com/m\n",
		"a.go":                  "package m\n\n" + body("short()", 4) + body("limit()", 4+1) + body("(*T) over()", 6) + "type T struct{}\n",
		"a_test.go":             "package m\n\n" + body("inTest()", 9),
		"bench/b.go":            "package bench\n\n" + body("inBench()", 9),
		"scratch/s.go":          "package scratch\n\n" + body("inScratch()", 9),
		"nested/go.mod":         "module example.com/n\n",
		"nested/n.go":           "package n\n\n" + body("inNested()", 9),
		"sub/bench/c.go":        "package bench\n\n" + body("deepBench()", 7),
		"sub/testdata/x.go":     "package x\n\n" + body("inTestdata()", 9),
		"sub/generic.go":        "package sub\n\ntype G[K, V any] struct{}\n\n" + body("(g G[K, V]) m()", 8),
		"sub/.hidden/hidden.go": "package hidden\n\n" + body("hidden()", 9),
	}
	for name, src := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, err := longFuncs(root, 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range found {
		got = append(got, l.String())
	}
	want := []string{
		"sub/generic.go:5: G.m is 8 lines",
		"sub/bench/c.go:3: deepBench is 7 lines",
		"a.go:12: T.over is 6 lines",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// moduleRoot is the directory of the go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
