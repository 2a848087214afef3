// Command funclen lists the functions of the module that are longer than
// a limit, counted in lines from the func keyword to the closing brace.
// Tests (_test.go), bench/, scratch/, testdata, hidden directories and
// nested modules are left out. Its test fails while any function outside
// them is over 80 lines, so that CI catches a regression.
//
//	go run ./internal/tools/funclen          # the functions over 80 lines
//	go run ./internal/tools/funclen -max 60  # over another limit
package main

import (
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/megane-go/megane/internal/tools/gosrc"
)

// maxLines is the longest a function may be.
const maxLines = 80

// long is one function over the limit.
type long struct {
	File  string // slash-separated, relative to the module root
	Line  int    // of the func keyword
	Name  string // Name, or Recv.Name for a method
	Lines int
}

func (l long) String() string {
	return fmt.Sprintf("%s:%d: %s is %d lines", l.File, l.Line, l.Name, l.Lines)
}

func main() {
	limit := flag.Int("max", maxLines, "the longest a function may be, in lines")
	root := flag.String("root", ".", "module root")
	flag.Parse()
	found, err := longFuncs(*root, *limit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(1)
	}
	for _, l := range found {
		fmt.Println(l)
	}
	if len(found) > 0 {
		os.Exit(1)
	}
}

// longFuncs returns the functions under root over limit lines, the longest
// first.
func longFuncs(root string, limit int) ([]long, error) {
	fset := token.NewFileSet()
	var found []long
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if skippedDir(rel, d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line
			if n := end - start + 1; n > limit {
				found = append(found, long{File: rel, Line: start, Name: funcName(fn), Lines: n})
			}
		}
		return nil
	})
	slices.SortFunc(found, func(a, b long) int {
		return cmp.Or(cmp.Compare(b.Lines, a.Lines), strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return found, err
}

// skippedDir reports whether the directory rel (named base) is left out.
func skippedDir(rel, base string) bool {
	return strings.HasPrefix(base, ".") || base == "testdata" || rel == "bench" || rel == "scratch"
}

// funcName is a function's name, with its receiver's type for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv != nil && len(fn.Recv.List) > 0 {
		if r := gosrc.TypeName(fn.Recv.List[0].Type); r != "" {
			return r + "." + fn.Name.Name
		}
	}
	return fn.Name.Name
}
