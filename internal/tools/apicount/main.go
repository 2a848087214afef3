// Command apicount counts the exported API of the module's importable
// packages: top-level exported names (functions, types, variables,
// constants) plus the exported methods of exported types and the methods
// of exported interfaces. Struct fields are counted apart. internal/,
// main packages, tests, testdata and scratch/ are left out.
//
// Beside the names, the "std" column counts the methods that only satisfy
// a standard interface (error's Error, Unwrap and Is, fmt.Stringer, slog.LogValuer,
// the encoding and json (un)marshalers, ...: see stdMethods), which a reader
// learns nothing new from; "core" is the names less those. The last line
// leaves out discordtest, the fake Discord for tests.
//
//	go run ./internal/tools/apicount          # one line per package and the total
//	go run ./internal/tools/apicount -json    # the same as JSON
//	go run ./internal/tools/apicount -list    # every counted name, one per line
package main

import (
	"encoding/json"
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

// count is the exported surface of one package.
type count struct {
	Package string `json:"package"`
	Names   int    `json:"names"`  // top-level names, methods and interface methods
	Fields  int    `json:"fields"` // exported fields of exported struct types
	Std     int    `json:"std"`    // methods of concrete types named in stdMethods

	names []string // the counted names, sorted
}

func main() {
	asJSON := flag.Bool("json", false, "print JSON")
	list := flag.Bool("list", false, "print every counted name as package.Name")
	root := flag.String("root", ".", "module root")
	flag.Parse()
	counts, err := countModule(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apicount:", err)
		os.Exit(1)
	}
	total, lessFake := count{Package: "total"}, count{Package: "total less " + testPackage}
	for _, c := range counts {
		total.add(c)
		if c.Package != testPackage {
			lessFake.add(c)
		}
	}
	if *list {
		for _, c := range counts {
			for _, n := range c.names {
				fmt.Printf("%s.%s\n", c.Package, n)
			}
		}
		return
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(append(counts, total, lessFake))
		return
	}
	for _, c := range append(counts, total, lessFake) {
		fmt.Printf("%-22s %4d names %4d std %4d core %4d fields\n", c.Package, c.Names, c.Std, c.Names-c.Std, c.Fields)
	}
}

// testPackage is the module's fake Discord, a package for users' tests.
const testPackage = "discordtest"

// stdMethods are the method names that satisfy a standard library
// interface: error (with errors.Is/As/Unwrap), fmt's Stringer, GoStringer
// and Formatter, slog.LogValuer, encoding's and encoding/json's
// marshalers.
var stdMethods = map[string]bool{
	"Error": true, "Unwrap": true, "Is": true, "As": true,
	"String": true, "GoString": true, "Format": true, "LogValue": true,
	"MarshalText": true, "UnmarshalText": true, "MarshalJSON": true, "UnmarshalJSON": true,
	"MarshalBinary": true, "UnmarshalBinary": true,
}

func (c *count) add(o count) {
	c.Names += o.Names
	c.Fields += o.Fields
	c.Std += o.Std
}

// countModule walks every package directory under root.
func countModule(root string) ([]count, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || base == "testdata" || base == "internal" || base == "scratch") {
			return filepath.SkipDir
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []count
	for _, dir := range dirs {
		c, ok, err := countDir(root, dir)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// countDir counts one directory's package; ok is false for a directory
// without Go files or with a main package.
func countDir(root, dir string) (count, bool, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return count{}, false, err
	}
	names := map[string]bool{} // de-duplicated: files for other platforms repeat names
	fields := map[string]bool{}
	std := map[string]bool{}
	pkg := ""
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return count{}, false, err
		}
		if f.Name.Name == "main" {
			return count{}, false, nil
		}
		pkg = f.Name.Name
		collect(f, names, fields, std)
	}
	if pkg == "" {
		return count{}, false, nil
	}
	rel, _ := filepath.Rel(root, dir)
	if rel == "." {
		rel = pkg
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	return count{Package: filepath.ToSlash(rel), Names: len(names), Fields: len(fields), Std: len(std), names: sorted}, true, nil
}

// collect adds a file's exported names and fields, and to std the methods
// of concrete types named in stdMethods.
func collect(f *ast.File, names, fields, std map[string]bool) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				names[d.Name.Name] = true
				continue
			}
			if recv := gosrc.TypeName(d.Recv.List[0].Type); ast.IsExported(recv) {
				names[recv+"."+d.Name.Name] = true
				if stdMethods[d.Name.Name] {
					std[recv+"."+d.Name.Name] = true
				}
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							names[n.Name] = true
						}
					}
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					names[s.Name.Name] = true
					typeMembers(s, names, fields)
				}
			}
		}
	}
}

// typeMembers adds an exported type's interface methods and struct fields.
func typeMembers(s *ast.TypeSpec, names, fields map[string]bool) {
	switch t := s.Type.(type) {
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			for _, n := range m.Names {
				if n.IsExported() {
					names[s.Name.Name+"."+n.Name] = true
				}
			}
		}
	case *ast.StructType:
		for _, fl := range t.Fields.List {
			for _, n := range fl.Names {
				if n.IsExported() {
					fields[s.Name.Name+"."+n.Name] = true
				}
			}
			if len(fl.Names) == 0 { // an embedded field
				if n := gosrc.TypeName(fl.Type); ast.IsExported(n) {
					fields[s.Name.Name+"."+n] = true
				}
			}
		}
	}
}
