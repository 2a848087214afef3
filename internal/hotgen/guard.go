package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
)

// checkGuards hashes the source of every declaration the reproductions
// mirror and compares it with the hash recorded in reproductions. It
// returns one line per declaration ("pkg decl sha256"), or an error naming
// each declaration whose source changed since it was reviewed.
func checkGuards() ([]string, error) {
	var lines []string
	var errs []error
	for _, r := range reproductions {
		for _, gd := range r.guards {
			file, pkg, err := sourceFile(gd.locate)
			if err != nil {
				return nil, err
			}
			if gd.file != "" {
				file = filepath.Join(filepath.Dir(file), gd.file)
			}
			src, err := declSource(file, gd.decl)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(src)
			got := hex.EncodeToString(sum[:])
			name := pkg + "." + gd.decl
			if got != gd.sha256 {
				errs = append(errs, fmt.Errorf("%s (%s) has changed: review %s in internal/wire/hot_repro.go against it, then record its new hash %s in internal/hotgen/config.go",
					name, filepath.Base(file), r.method, got))
			}
			lines = append(lines, name+" "+got)
		}
	}
	return lines, errors.Join(errs...)
}

// sourceFile returns the file that declares the function fn, from the
// binary's line table, and the last element of its package path.
func sourceFile(fn any) (string, string, error) {
	pc := reflect.ValueOf(fn).Pointer()
	f := runtime.FuncForPC(pc)
	if f == nil {
		return "", "", fmt.Errorf("hotgen: no function at %#x", pc)
	}
	file, _ := f.FileLine(f.Entry())
	if !filepath.IsAbs(file) {
		return "", "", fmt.Errorf("hotgen: %s is declared in %q, not an absolute path (built with -trimpath?)", f.Name(), file)
	}
	// f.Name() is "github.com/disgoorg/disgo/discord.(*Message).UnmarshalJSON".
	name := f.Name()
	slash := strings.LastIndex(name, "/")
	dot := strings.Index(name[slash+1:], ".")
	path := name[:slash+1+dot]
	pkg, ok := packages[path]
	if !ok {
		pkg = path
	}
	return file, pkg, nil
}

// declSource returns the source text of the declaration decl in file:
// "Name" for a function, "(*T).Name" or "(T).Name" for a method.
func declSource(file, decl string) ([]byte, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("hotgen: read the source disgo was built from: %w", err)
	}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("hotgen: %w", err)
	}
	for _, d := range af.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || funcDeclName(fd) != decl {
			continue
		}
		start, end := fset.Position(fd.Pos()).Offset, fset.Position(fd.End()).Offset
		return src[start:end], nil
	}
	return nil, fmt.Errorf("hotgen: %s declares no %s", file, decl)
}

func funcDeclName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	switch t := fd.Recv.List[0].Type.(type) {
	case *ast.StarExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return "(*" + id.Name + ")." + fd.Name.Name
		}
	case *ast.Ident:
		return "(" + t.Name + ")." + fd.Name.Name
	}
	return fd.Name.Name
}
