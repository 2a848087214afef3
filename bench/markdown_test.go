package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// soakBlock is a section as go run ./bench/soak -md writes it.
const soakBlock = soakBegin + "\n## Reliability: the chaos soak\n\n| figure | value |\n| --- | --- |\n| lost | 0 |\n" + soakEnd

func TestWithSoakSection(t *testing.T) {
	t.Parallel()
	const md = "# Megane benchmark results\n\nnew figures\n"
	cases := []struct {
		name string
		old  string
		want string
	}{
		{"no old file", "", md},
		{"old file without a soak section", "# Megane benchmark results\n\nold figures\n", md},
		{"soak section at the end", "# old\n\nold figures\n\n" + soakBlock + "\n", md + "\n" + soakBlock + "\n"},
		{"soak section in the middle", "# old\n\n" + soakBlock + "\n\nold figures\n", md + "\n" + soakBlock + "\n"},
		{"soak section alone, no newline after it", soakBlock, md + "\n" + soakBlock + "\n"},
		{"only the begin marker", "# old\n" + soakBegin + "\nhalf a section\n", md},
		{"the end marker before the begin marker", soakEnd + "\n# old\n" + soakBegin + "\n", md},
		{"a paired section is kept, before the soak's", "# old\n\n" + soakBlock + "\n" + pairedBegin + "\nold against new\n" + pairedEnd + "\n",
			md + "\n" + pairedBegin + "\nold against new\n" + pairedEnd + "\n\n" + soakBlock + "\n"},
		{"a second section is not carried", soakBlock + "\n" + strings.Replace(soakBlock, "| lost | 0 |", "| lost | 9 |", 1),
			md + "\n" + soakBlock + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(withSoakSection([]byte(md), []byte(tc.old))); got != tc.want {
				t.Errorf("withSoakSection =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestWriteMarkdownFileKeepsTheSoakSection: rewriting RESULTS.md replaces
// the bench's figures and keeps the soak's section as it was.
func TestWriteMarkdownFileKeepsTheSoakSection(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# Megane benchmark results\n\nstale figures\n\n"+soakBlock+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := syntheticReport()
	r.finish(quickMode())
	for range 2 { // a second run must not pile up sections
		if err := writeMarkdownFile(path, r, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fresh bytes.Buffer
	if err := writeMarkdown(&fresh, r, ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, bytes.TrimRight(fresh.Bytes(), "\n")) {
		t.Error("the file does not start with the new report")
	}
	if bytes.Contains(got, []byte("stale figures")) {
		t.Error("the old figures were kept")
	}
	if n := bytes.Count(got, []byte(soakBegin)); n != 1 || !bytes.HasSuffix(got, []byte(soakBlock+"\n")) {
		t.Errorf("%d soak sections; want the old one once, at the end:\n%s", n, got)
	}
}

// TestWriteMarkdownFileWithoutAnOldFile: the first run creates the file.
func TestWriteMarkdownFileWithoutAnOldFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	r := syntheticReport()
	r.finish(quickMode())
	if err := writeMarkdownFile(path, r, ""); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, []byte("# Megane benchmark results")) || bytes.Contains(got, []byte(soakBegin)) {
		t.Errorf("new file:\n%s", got)
	}
}

// TestSoakMarkersMatchTheSoak: the soak command (package main of its own,
// so not importable) writes the same markers this command keeps.
func TestSoakMarkersMatchTheSoak(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("soak", "markdown.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{soakBegin, soakEnd} {
		if !bytes.Contains(src, []byte(strconv.Quote(m))) {
			t.Errorf("bench/soak/markdown.go does not write %s", m)
		}
	}
}
