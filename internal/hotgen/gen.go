package main

import (
	"bytes"
	"encoding"
	stdjson "encoding/json"
	"fmt"
	"go/format"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"unicode"
)

// packages are the packages generated code may name, with the name it
// imports them under. A type from any other package is decoded by the JSON
// engine.
var packages = map[string]string{
	"github.com/disgoorg/disgo/discord": "discord",
	"github.com/disgoorg/disgo/gateway": "gateway",
	"github.com/disgoorg/snowflake/v2":  "snowflake",
	"github.com/disgoorg/json/v2":       "disgojson",
	"encoding/json":                     "stdjson",
	"time":                              "time",
}

var (
	unmarshalerType     = reflect.TypeFor[stdjson.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[stdjson.Number]()
	imagePkg            = reflect.TypeFor[hotMessageImage]().PkgPath()
)

// how is the way a type is decoded.
type how int

const (
	howEngine    how = iota // the sub-value goes through the JSON engine (disgojson.Unmarshal)
	howRepro                // a hand-written reproduction in package wire
	howPromoted             // an UnmarshalJSON promoted from an embedded field: that field's decoder
	howMethod               // the type's own UnmarshalJSON, called on the value's bytes
	howNumber               // encoding/json.Number
	howPointer              // null sets nil, anything else decodes into a new value
	howSlice                // a JSON array
	howStruct               // a JSON object, member by member
	howPrimitive            // a string, bool or number
)

// plan says how one type is decoded.
type plan struct {
	how      how
	name     string  // the decoder's method name (all but howEngine)
	repro    string  // howRepro: the hand-written method
	promoted []int   // howPromoted: the embedded field's index
	fields   []field // howStruct
	why      string  // howEngine: why
}

type generator struct {
	plans map[reflect.Type]*plan
	order []reflect.Type // types with a decoder, in the order they were found
	names map[string]reflect.Type
	repro map[reflect.Type]reproduction
	used  map[string]bool // imported packages
}

func newGenerator() *generator {
	g := &generator{
		plans: map[reflect.Type]*plan{},
		names: map[string]reflect.Type{},
		repro: map[reflect.Type]reproduction{},
		used:  map[string]bool{"gateway": true},
	}
	for _, r := range reproductions {
		g.repro[r.typ] = r
	}
	return g
}

// planAll plans the roots and the images the reproductions decode into,
// and every type they need.
func (g *generator) planAll() {
	for _, r := range roots {
		g.plan(r.typ)
	}
	for _, im := range images {
		if im.decoded {
			g.plan(im.typ)
		}
	}
}

// plan returns how t is decoded, planning the types it needs on the way.
// The order of its checks is encoding/json's (indirect, then the kind).
func (g *generator) plan(t reflect.Type) *plan {
	if p, ok := g.plans[t]; ok {
		return p
	}
	p := &plan{}
	g.plans[t] = p // before recursing: types can be recursive (Message.ReferencedMessage)
	switch {
	case !g.nameable(t):
		p.how, p.why = howEngine, "its type cannot be named in package wire"
	case g.repro[t].method != "":
		p.how, p.repro = howRepro, g.repro[t].method
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType):
		if idx, ok := promotedFrom(t); ok {
			p.how, p.promoted = howPromoted, idx
			g.plan(t.Field(idx[0]).Type)
		} else {
			p.how = howMethod
		}
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType):
		p.how, p.why = howEngine, "it has an UnmarshalText method"
	case t == numberType:
		p.how = howNumber
	default:
		switch t.Kind() {
		case reflect.Pointer:
			p.how = howPointer
			g.plan(t.Elem())
		case reflect.Slice:
			if t.Elem().Kind() == reflect.Uint8 {
				p.how, p.why = howEngine, "a byte slice is base64"
				break
			}
			p.how = howSlice
			g.plan(t.Elem())
		case reflect.Struct:
			fields, why := g.structFields(t)
			if why != "" {
				p.how, p.why = howEngine, why
				break
			}
			p.how, p.fields = howStruct, fields
			for _, f := range fields {
				g.plan(f.typ)
			}
		case reflect.String, reflect.Bool,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Float32, reflect.Float64:
			p.how = howPrimitive
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			// No hot member is unsigned but the snowflakes, which have their
			// own decoder; the scanner has no unsigned reader to keep up.
			p.how, p.why = howEngine, "unsigned integers are left to the engine"
		default:
			p.how, p.why = howEngine, "the kind "+t.Kind().String()+" is left to the engine"
		}
	}
	if p.how != howEngine && p.how != howRepro {
		p.name = "dec" + g.ident(t)
		names := []string{p.name}
		if p.how == howStruct && len(p.fields) > membersOneSwitch {
			for start := membersInline; start < len(p.fields); start += membersPerHelper {
				names = append(names, membersName(p, start))
			}
		}
		for _, name := range names {
			if prev, ok := g.names[name]; ok && prev != t {
				panic(fmt.Sprintf("hotgen: %v and %v both get the decoder name %s", prev, t, name))
			}
			g.names[name] = t
		}
		g.order = append(g.order, t)
	}
	return p
}

// promotedFrom reports whether t's UnmarshalJSON is promoted from an
// embedded field, and which: then encoding/json, calling t's method,
// decodes the whole value into that field and nothing else.
func promotedFrom(t reflect.Type) ([]int, bool) {
	m, _ := reflect.PointerTo(t).MethodByName("UnmarshalJSON")
	file, _ := runtime.FuncForPC(m.Func.Pointer()).FileLine(m.Func.Pointer())
	if file != "<autogenerated>" || t.Kind() != reflect.Struct {
		return nil, false
	}
	var found []int
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() != reflect.Pointer && reflect.PointerTo(sf.Type).Implements(unmarshalerType) {
			if found != nil {
				panic(fmt.Sprintf("hotgen: %v promotes UnmarshalJSON from two fields", t))
			}
			found = []int{i}
		}
	}
	if found == nil {
		panic(fmt.Sprintf("hotgen: %v has a promoted UnmarshalJSON from a field this generator cannot find", t))
	}
	return found, true
}

// structFields returns t's JSON members, or why the struct is left to the
// engine: a member behind an embedded pointer (encoding/json allocates
// it, or fails), a ",string" member, or one the generated code cannot
// reach by name.
func (g *generator) structFields(t reflect.Type) ([]field, string) {
	fields := jsonFields(t)
	for _, f := range fields {
		if f.quoted {
			return nil, "member " + f.name + " has the ,string option"
		}
		cur := t
		for k, i := range f.index {
			sf := cur.Field(i)
			if !sf.IsExported() && cur.PkgPath() != imagePkg {
				return nil, "member " + f.name + " is behind an unexported field"
			}
			if k < len(f.index)-1 && sf.Type.Kind() == reflect.Pointer {
				return nil, "member " + f.name + " is behind an embedded pointer"
			}
			cur = sf.Type
		}
		for _, c := range f.name {
			if c >= unicode.MaxASCII {
				return nil, "member " + f.name + " is not ASCII"
			}
		}
		if len(f.name) > maxKey {
			return nil, "member " + f.name + " is longer than the scanner folds"
		}
	}
	return fields, ""
}

// smallElem is the largest element, in bytes, that a slice decoder gathers
// in a stack buffer of smallBuf elements before it allocates.
const (
	smallElem = 16
	smallBuf  = 16
)

// maxKey is the longest member name the generated fold checks handle; it
// must match hotMaxKey in package wire.
const maxKey = 64

// nameable reports whether generated code in package wire can spell t.
func (g *generator) nameable(t reflect.Type) bool {
	if t.Name() != "" {
		if t.PkgPath() == "" || t.PkgPath() == imagePkg {
			return true
		}
		_, ok := packages[t.PkgPath()]
		return ok && unicode.IsUpper(rune(t.Name()[0]))
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return g.nameable(t.Elem())
	case reflect.Map:
		return g.nameable(t.Key()) && g.nameable(t.Elem())
	case reflect.Interface:
		return t.NumMethod() == 0
	}
	return false
}

// expr returns the Go spelling of t in package wire.
func (g *generator) expr(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" || t.PkgPath() == imagePkg {
			return t.Name()
		}
		q := packages[t.PkgPath()]
		g.used[q] = true
		return q + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + g.expr(t.Elem())
	case reflect.Slice:
		return "[]" + g.expr(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), g.expr(t.Elem()))
	case reflect.Map:
		return "map[" + g.expr(t.Key()) + "]" + g.expr(t.Elem())
	case reflect.Interface:
		return "any"
	}
	panic("hotgen: cannot spell " + t.String())
}

// ident returns a name for t usable inside an identifier.
func (g *generator) ident(t reflect.Type) string {
	if t.Name() != "" {
		name := t.Name()
		if t.PkgPath() != "" && t.PkgPath() != imagePkg {
			q := packages[t.PkgPath()]
			if q == "stdjson" || q == "disgojson" {
				q = "json"
			}
			name = q + "_" + name
		}
		return upperFirst(name)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "Ptr" + g.ident(t.Elem())
	case reflect.Slice:
		return "Slice" + g.ident(t.Elem())
	}
	panic("hotgen: no identifier for " + t.String())
}

func upperFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return strings.ReplaceAll(string(r), "_", "")
}

// call returns the statement-free expression that decodes into the
// pointer expression ptr, a value of type t: true when it succeeded.
func (g *generator) call(t reflect.Type, ptr string) string {
	p := g.plan(t)
	switch p.how {
	case howEngine:
		return "d.engine(" + ptr + ")"
	case howRepro:
		return "d." + p.repro + "(" + ptr + ")"
	}
	return "d." + p.name + "(" + ptr + ")"
}

// generate returns the generated file.
func generate() ([]byte, error) {
	hashes, err := checkGuards()
	if err != nil {
		return nil, err
	}
	g := newGenerator()
	g.planAll()
	var body bytes.Buffer
	g.emitEvent(&body)
	for _, t := range g.order {
		g.emitDecoder(&body, t)
	}
	g.emitImages(&body)

	var out bytes.Buffer
	fmt.Fprintf(&out, "// Code generated by internal/hotgen from disgo's types; DO NOT EDIT.\n\n")
	fmt.Fprintf(&out, "package wire\n\n")
	var imports []string
	for path, q := range packages {
		if g.used[q] {
			if path[strings.LastIndex(path, "/")+1:] == q {
				imports = append(imports, fmt.Sprintf("%q", path))
			} else {
				imports = append(imports, fmt.Sprintf("%s %q", q, path))
			}
		}
	}
	slices.Sort(imports)
	fmt.Fprintf(&out, "import (\n%s\n)\n\n", strings.Join(imports, "\n"))
	fmt.Fprintf(&out, "// hotReproduced lists the disgo declarations hot_repro.go reproduces,\n")
	fmt.Fprintf(&out, "// with the SHA-256 of their source when this file was generated.\n")
	fmt.Fprintf(&out, "var hotReproduced = []string{\n")
	for _, h := range hashes {
		fmt.Fprintf(&out, "\t%q,\n", h)
	}
	fmt.Fprintf(&out, "}\n\n")
	g.emitEngineNotes(&out)
	out.Write(body.Bytes())
	src, err := format.Source(out.Bytes())
	if err != nil {
		return out.Bytes(), fmt.Errorf("hotgen: gofmt the output: %w", err)
	}
	return src, nil
}

func (g *generator) emitEvent(w *bytes.Buffer) {
	fmt.Fprintf(w, "// hotEventTypes are the event types hotEvent decodes.\n")
	fmt.Fprintf(w, "var hotEventTypes = []gateway.EventType{\n")
	for _, r := range roots {
		fmt.Fprintf(w, "\tgateway.%s,\n", r.constant)
	}
	fmt.Fprintf(w, "}\n\n")
	fmt.Fprintf(w, "// event decodes the data of an event of type t into disgo's type for it.\n")
	fmt.Fprintf(w, "// It returns false for any other type, or when it declines the data.\n")
	fmt.Fprintf(w, "func (d *hotDecoder) event(t gateway.EventType) (gateway.EventData, bool) {\n\tswitch t {\n")
	for _, r := range roots {
		fmt.Fprintf(w, "\tcase gateway.%s:\n\t\tvar v %s\n\t\tif !%s {\n\t\t\treturn nil, false\n\t\t}\n\t\treturn v, true\n",
			r.constant, g.expr(r.typ), g.call(r.typ, "&v"))
	}
	fmt.Fprintf(w, "\t}\n\treturn nil, false\n}\n\n")
}

// emitEngineNotes documents, in the generated file, which types are left
// to the engine and why.
func (g *generator) emitEngineNotes(w *bytes.Buffer) {
	var notes []string
	for t, p := range g.plans {
		if p.how == howEngine {
			notes = append(notes, fmt.Sprintf("//   - %v: %s", t, p.why))
		}
		if p.how == howMethod {
			notes = append(notes, fmt.Sprintf("//   - %v: its own UnmarshalJSON, called on the value's bytes", t))
		}
	}
	slices.Sort(notes)
	fmt.Fprintf(w, "// Types not decoded member by member here:\n%s\n\n", strings.Join(notes, "\n"))
}

func (g *generator) emitDecoder(w *bytes.Buffer, t reflect.Type) {
	p := g.plans[t]
	te := g.expr(t)
	fmt.Fprintf(w, "func (d *hotDecoder) %s(v *%s) bool {\n", p.name, te)
	switch p.how {
	case howPromoted:
		f := t.Field(p.promoted[0])
		fmt.Fprintf(w, "\t// %s's UnmarshalJSON is %s's, promoted.\n", te, f.Name)
		fmt.Fprintf(w, "\treturn %s\n", g.call(f.Type, "&v."+f.Name))
	case howMethod:
		fmt.Fprintf(w, "\traw, ok := d.raw()\n\treturn ok && v.UnmarshalJSON(raw) == nil\n")
	case howNumber:
		fmt.Fprintf(w, "\treturn d.number(v)\n")
	case howPointer:
		fmt.Fprintf(w, "\tif d.null() {\n\t\t*v = nil\n\t\treturn true\n\t}\n")
		if t.Elem() == reflect.TypeFor[string]() {
			fmt.Fprintf(w, "\tif *v == nil {\n\t\t*v = d.newString()\n\t}\n")
		} else {
			fmt.Fprintf(w, "\tif *v == nil {\n\t\t*v = new(%s)\n\t}\n", g.expr(t.Elem()))
		}
		fmt.Fprintf(w, "\treturn %s\n", g.call(t.Elem(), "*v"))
	case howSlice:
		et := g.expr(t.Elem())
		fmt.Fprintf(w, "\tif d.null() {\n\t\t*v = nil\n\t\treturn true\n\t}\n")
		fmt.Fprintf(w, "\tif !d.openArray() {\n\t\treturn false\n\t}\n")
		if t.Elem().Size() <= smallElem {
			// Small elements gather on the stack first: one allocation of
			// the right size instead of append's doublings.
			fmt.Fprintf(w, "\tvar buf [%d]%s\n\ts := buf[:0]\n\tvar zero %s\n", smallBuf, et, et)
			fmt.Fprintf(w, "\tfor d.nextElem() {\n\t\ts = append(s, zero)\n")
			fmt.Fprintf(w, "\t\tif !%s {\n\t\t\treturn false\n\t\t}\n\t}\n", g.call(t.Elem(), "&s[len(s)-1]"))
			fmt.Fprintf(w, "\tif d.bad {\n\t\treturn false\n\t}\n")
			fmt.Fprintf(w, "\t*v = make([]%s, len(s))\n\tcopy(*v, s)\n\treturn true\n", et)
			break
		}
		fmt.Fprintf(w, "\tvar s []%s\n\tvar zero %s\n", et, et)
		fmt.Fprintf(w, "\tfor d.nextElem() {\n\t\ts = append(s, zero)\n")
		fmt.Fprintf(w, "\t\tif !%s {\n\t\t\treturn false\n\t\t}\n\t}\n", g.call(t.Elem(), "&s[len(s)-1]"))
		fmt.Fprintf(w, "\tif d.bad {\n\t\treturn false\n\t}\n")
		fmt.Fprintf(w, "\tif s == nil {\n\t\ts = []%s{}\n\t}\n\t*v = s\n\treturn true\n", et)
	case howPrimitive:
		g.emitPrimitive(w, t)
	case howStruct:
		g.emitStruct(w, t, p) // closes the function and writes its helpers
		g.emitFold(w, p)
		return
	}
	fmt.Fprintf(w, "}\n\n")
}

func (g *generator) emitPrimitive(w *bytes.Buffer, t reflect.Type) {
	te := g.expr(t)
	switch t.Kind() {
	case reflect.String:
		fmt.Fprintf(w, "\ts, set, ok := d.str()\n")
		fmt.Fprintf(w, "\tif set {\n\t\t*v = %s(s)\n\t}\n\treturn ok\n", te)
	case reflect.Bool:
		fmt.Fprintf(w, "\tb, set, ok := d.boolean()\n")
		fmt.Fprintf(w, "\tif set {\n\t\t*v = %s(b)\n\t}\n\treturn ok\n", te)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(w, "\tn, set, ok := d.integer(%d)\n", t.Bits())
		fmt.Fprintf(w, "\tif set {\n\t\t*v = %s(n)\n\t}\n\treturn ok\n", te)
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(w, "\tf, set, ok := d.float(%d)\n", t.Bits())
		fmt.Fprintf(w, "\tif set {\n\t\t*v = %s(f)\n\t}\n\treturn ok\n", te)
	}
}

// A struct decoder is a loop over the object's keys with a switch over its
// members' names. When that does not fit in 80 lines (more than
// membersOneSwitch members; TestGeneratedFunctionsAreShort), the
// decoder's switch takes the first membersInline members, in two lines
// each, and hands any other key to a helper, which takes the next
// membersPerHelper and hands on in turn; the last one checks the fold and
// skips an unknown member. A key among a struct's first members, the ones
// disgo declares first and Discord sends most, then costs no call more
// than one switch over all of them would. The structs that fit keep the
// one-switch shape, whose cases return: measured on MESSAGE_CREATE, giving
// every struct the two-line cases was about 3 % slower, and splitting only
// the big ones is not.
const (
	membersOneSwitch = 15
	membersInline    = 30
	membersPerHelper = 37
)

// emitStruct writes the body of a struct's decoder, closes it, and writes
// the helpers it calls.
func (g *generator) emitStruct(w *bytes.Buffer, t reflect.Type, p *plan) {
	fmt.Fprintf(w, "\tif d.null() {\n\t\treturn true\n\t}\n")
	fmt.Fprintf(w, "\tif !d.openObject() {\n\t\treturn false\n\t}\n")
	if len(p.fields) > 0 {
		fmt.Fprintf(w, "\tvar seen [%d]uint64\n", seenWords(p))
	}
	if len(p.fields) <= membersOneSwitch {
		fmt.Fprintf(w, "\tfor d.nextKey() {\n\t\tswitch string(d.key) {\n")
		for i, f := range p.fields {
			fmt.Fprintf(w, "\t\tcase %q:\n", f.name)
			fmt.Fprintf(w, "\t\t\tif !d.once(&seen[%d], 1<<%d) || !%s {\n\t\t\t\treturn false\n\t\t\t}\n", i/64, i%64, g.call(f.typ, "&"+memberPath(t, f)))
		}
		fmt.Fprintf(w, "\t\tdefault:\n\t\t\tif %s(d.foldedKey()) || !d.skip() {\n\t\t\t\treturn false\n\t\t\t}\n", foldName(p))
		fmt.Fprintf(w, "\t\t}\n\t}\n\treturn !d.bad\n}\n\n")
		return
	}
	fmt.Fprintf(w, "\tfor d.nextKey() {\n\t\tvar ok bool\n\t\tswitch string(d.key) {\n")
	end := min(membersInline, len(p.fields))
	g.emitMembers(w, t, p, 0, end, "&seen")
	fmt.Fprintf(w, "\t\t}\n\t\tif !ok {\n\t\t\treturn false\n\t\t}\n\t}\n\treturn !d.bad\n}\n\n")
	for start := end; start < len(p.fields); start = end {
		end = min(start+membersPerHelper, len(p.fields))
		fmt.Fprintf(w, "// %s decodes the member d.key names when it is one of\n", membersName(p, start))
		fmt.Fprintf(w, "// the members of %s after the first %d.\n", g.expr(t), start)
		fmt.Fprintf(w, "func (d *hotDecoder) %s(v *%s, seen *[%d]uint64) bool {\n", membersName(p, start), g.expr(t), seenWords(p))
		fmt.Fprintf(w, "\tvar ok bool\n\tswitch string(d.key) {\n")
		g.emitMembers(w, t, p, start, end, "seen")
		fmt.Fprintf(w, "\t}\n\treturn ok\n}\n\n")
	}
}

// emitMembers writes the cases of the members p.fields[start:end], which
// set ok, and the default: the next helper, or the fold check and skip.
func (g *generator) emitMembers(w *bytes.Buffer, t reflect.Type, p *plan, start, end int, seen string) {
	for i := start; i < end; i++ {
		f := p.fields[i]
		fmt.Fprintf(w, "\tcase %q:\n", f.name)
		fmt.Fprintf(w, "\t\tok = d.once(&seen[%d], 1<<%d) && %s\n", i/64, i%64, g.call(f.typ, "&"+memberPath(t, f)))
	}
	if end < len(p.fields) {
		fmt.Fprintf(w, "\tdefault:\n\t\tok = d.%s(v, %s)\n", membersName(p, end), seen)
		return
	}
	fmt.Fprintf(w, "\tdefault:\n\t\tok = !%s(d.foldedKey()) && d.skip()\n", foldName(p))
}

// memberPath is the expression for member f of v, a *t.
func memberPath(t reflect.Type, f field) string {
	path := "v"
	for _, k := range f.index {
		sf := t.Field(k)
		path += "." + sf.Name
		t = sf.Type
	}
	return path
}

// seenWords is the length of the bit set of the members a struct decoder
// has seen.
func seenWords(p *plan) int { return (len(p.fields) + 63) / 64 }

// membersName is the helper that decodes p's members from the start'th on.
func membersName(p *plan, start int) string { return fmt.Sprintf("%sFrom%d", p.name, start) }

func foldName(p *plan) string { return "hotFold" + strings.TrimPrefix(p.name, "dec") }

// emitFold writes the check that a key which matched no member exactly
// matches one case-insensitively, as encoding/json would take it: the
// decoder declines such keys.
func (g *generator) emitFold(w *bytes.Buffer, p *plan) {
	fmt.Fprintf(w, "func %s(k []byte) bool {\n", foldName(p))
	if len(p.fields) == 0 {
		fmt.Fprintf(w, "\treturn false\n}\n\n")
		return
	}
	var names []string
	for _, f := range p.fields {
		names = append(names, fmt.Sprintf("%q", strings.ToLower(f.name)))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	fmt.Fprintf(w, "\tswitch string(k) {\n\tcase %s:\n\t\treturn true\n\t}\n\treturn false\n}\n\n", strings.Join(names, ", "))
}

func (g *generator) emitImages(w *bytes.Buffer) {
	fmt.Fprintf(w, "// The types disgo's UnmarshalJSON methods decode into, which the\n")
	fmt.Fprintf(w, "// reproductions in hot_repro.go decode into too (see internal/hotgen).\n\n")
	for _, im := range images {
		if im.source != "" {
			fmt.Fprintf(w, "type %s %s\n\n", im.typ.Name(), im.source)
			continue
		}
		fmt.Fprintf(w, "type %s struct {\n", im.typ.Name())
		for i := range im.typ.NumField() {
			sf := im.typ.Field(i)
			if sf.Anonymous {
				fmt.Fprintf(w, "\t%s\n", g.expr(sf.Type))
				continue
			}
			fmt.Fprintf(w, "\t%s %s `%s`\n", sf.Name, g.expr(sf.Type), sf.Tag)
		}
		fmt.Fprintf(w, "}\n\n")
	}
}
