// Command hotgen writes internal/wire/hot_gen.go: the decoders of the hot
// gateway events' data into disgo's types, generated from those types with
// reflect so that they follow disgo's structs as they change.
//
// For each struct it writes a decoder that takes the members encoding/json
// would take, by encoding/json's rules (jsonFields), and declines, so that
// the JSON engine decodes the event instead, on anything it does not
// decode exactly as encoding/json would: a repeated member, a key that
// matches a member only case-insensitively, a key with escapes. A type
// with its own UnmarshalJSON gets that method called on the value's bytes,
// unless package wire reproduces it by hand (see reproductions in
// config.go, each guarded by a hash of the disgo source it mirrors); a
// type it cannot spell or does not handle (maps, arrays, interfaces) goes
// through the JSON engine.
//
// Run it with go generate in internal/wire. TestGeneratedFileIsCurrent
// fails when the file is stale, after a disgo upgrade say.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "hot_gen.go", "the file to write")
	flag.Parse()
	src, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
