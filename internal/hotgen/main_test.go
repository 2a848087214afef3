package main

import (
	"bytes"
	stdjson "encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGeneratedFileIsCurrent fails when internal/wire/hot_gen.go is not what
// the generator writes from the disgo this module builds with: after a
// disgo upgrade, or an edit of the generator, run go generate in
// internal/wire.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../wire/hot_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/wire/hot_gen.go is stale: run go generate ./internal/wire")
	}
}

// TestGeneratedFunctionsAreShort checks that no generated function is over
// 80 lines (internal/tools/funclen's limit), and that the structs with more
// members than one function holds are split into helpers.
func TestGeneratedFunctionsAreShort(t *testing.T) {
	src, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "hot_gen.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	helpers := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if strings.Contains(fn.Name.Name, "From") {
			helpers++
		}
		if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > 80 {
			t.Errorf("%s is %d lines", fn.Name.Name, n)
		}
	}
	if helpers == 0 {
		t.Error("no struct is decoded with a helper: membersInline no longer splits any, so this test proves nothing")
	}
}

// TestGuardsDetectChange checks that a changed declaration fails the
// generator, naming the declaration and its new hash.
func TestGuardsDetectChange(t *testing.T) {
	i := slices.IndexFunc(reproductions, func(r reproduction) bool { return r.method == "decSnowflake" })
	g := &reproductions[i].guards[0]
	saved := g.sha256
	defer func() { g.sha256 = saved }()
	g.sha256 = strings.Repeat("0", 64)
	_, err := generate()
	if err == nil || !strings.Contains(err.Error(), "(*ID).UnmarshalJSON") || !strings.Contains(err.Error(), saved) {
		t.Fatalf("err = %v; want one naming (*ID).UnmarshalJSON and its hash", err)
	}
}

// TestJSONFieldsMatchEncodingJSON checks jsonFields against encoding/json
// itself on every struct the generator decodes member by member: a value
// with every member set encodes to exactly those members' keys
// (encoding/json encodes and decodes with the same field list), but for
// members it cannot set (a nil interface with omitempty).
func TestJSONFieldsMatchEncodingJSON(t *testing.T) {
	g := newGenerator()
	g.planAll()
	marshaler := reflect.TypeFor[stdjson.Marshaler]()
	checked := 0
	for _, typ := range g.order {
		p := g.plans[typ]
		if p.how != howStruct || typ.Implements(marshaler) || reflect.PointerTo(typ).Implements(marshaler) {
			continue
		}
		v := reflect.New(typ).Elem()
		optional := map[string]bool{}
		for _, f := range p.fields {
			leaf := v.FieldByIndex(f.index)
			if !fill(leaf) {
				optional[f.name] = true
			}
		}
		b, err := stdjson.Marshal(v.Interface())
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		var members map[string]stdjson.RawMessage
		if err := stdjson.Unmarshal(b, &members); err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		var names []string
		for _, f := range p.fields {
			names = append(names, f.name)
			if _, ok := members[f.name]; !ok && !optional[f.name] {
				t.Errorf("%v: jsonFields has %q, encoding/json does not encode it", typ, f.name)
			}
		}
		for k := range members {
			if !slices.Contains(names, k) {
				t.Errorf("%v: encoding/json encodes %q, jsonFields does not have it", typ, k)
			}
		}
		checked++
	}
	if checked < 40 {
		t.Fatalf("only %d structs checked", checked)
	}
}

// fill sets v to a value that no omitempty or omitzero option leaves out,
// and reports whether it could.
func fill(v reflect.Value) bool {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Unix(1, 0).UTC()))
		return true
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("1")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		if et := v.Type().Elem(); et.Implements(reflect.TypeFor[stdjson.Marshaler]()) || reflect.PointerTo(et).Implements(reflect.TypeFor[stdjson.Marshaler]()) {
			return false // its zero element may not encode
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.Zero(v.Type().Key()), reflect.Zero(v.Type().Elem()))
		v.Set(m)
	case reflect.Array:
		return v.Len() > 0 && fill(v.Index(0))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && fill(v.Field(i)) {
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}
