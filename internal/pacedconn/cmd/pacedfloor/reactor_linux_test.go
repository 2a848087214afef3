package main

import (
	"bytes"
	"testing"
)

// TestCountWSFrames checks the reactor's frame splitting on each length
// encoding and on a frame cut short.
func TestCountWSFrames(t *testing.T) {
	t.Parallel()
	frame := func(size int) []byte { // an unmasked server frame, as maskedTextFrame's layout without the mask
		f := maskedTextFrame(bytes.Repeat([]byte("x"), size))
		f[1] &^= 0x80
		head := len(f) - size - 4
		return append(f[:head:head], f[head+4:]...)
	}
	small, mid, big := frame(5), frame(300), frame(70000)
	all := append(append(append([]byte{}, small...), mid...), big...)
	for _, tc := range []struct {
		name       string
		in         []byte
		frames, at int
	}{
		{"empty", nil, 0, 0},
		{"one byte", small[:1], 0, 0},
		{"7-bit length", small, 1, len(small)},
		{"16-bit length", mid, 1, len(mid)},
		{"64-bit length", big, 1, len(big)},
		{"three", all, 3, len(all)},
		{"last one cut", all[:len(all)-1], 2, len(small) + len(mid)},
		{"16-bit header cut", mid[:3], 0, 0},
		{"64-bit header cut", big[:9], 0, 0},
	} {
		frames, used := countWSFrames(tc.in)
		if frames != tc.frames || used != tc.at {
			t.Errorf("%s: %d frames in %d bytes, want %d in %d", tc.name, frames, used, tc.frames, tc.at)
		}
	}
}
