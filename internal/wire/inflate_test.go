package wire

import (
	"bytes"
	stdzlib "compress/zlib"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// zlibWriter is one compressor reused by zlibStream: building one
// allocates about 1 MB and took most of each run of FuzzInflateZlib's
// body. zlibWriterMu serialises its users.
var (
	zlibWriterMu sync.Mutex
	zlibWriter   *zlib.Writer
)

// zlibStream compresses msgs as Discord does: one zlib stream, a sync flush
// after each message. It returns one compressed message per input message.
func zlibStream(tb testing.TB, msgs [][]byte) [][]byte {
	tb.Helper()
	zlibWriterMu.Lock()
	defer zlibWriterMu.Unlock()
	var buf bytes.Buffer
	if zlibWriter == nil {
		w, err := zlib.NewWriterLevel(&buf, zlib.DefaultCompression)
		if err != nil {
			tb.Fatal(err)
		}
		zlibWriter = w
	}
	w := zlibWriter
	w.Reset(&buf) // the same state as a new writer
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		if _, err := w.Write(m); err != nil {
			tb.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		out = append(out, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	return out
}

// Windows of the zstd streams the tests compress. zstdTestWindow (the
// encoder's default is 8 MiB) keeps each decoder's history small while
// messages still span several windows and blocks reach their largest
// size (128 KiB). zstdFuzzWindow is the smallest window zstd allows: a new
// decoder for it costs a fifth of one for zstdTestWindow, and the fuzzer's
// small messages span windows too.
const (
	zstdTestWindow = 256 << 10
	zstdFuzzWindow = zstd.MinWindowSize
)

// zstdEncoders are the encoders reused by zstdStreamWindow, by window
// (building one is costly); zstdEncodersMu serialises their users.
var (
	zstdEncodersMu sync.Mutex
	zstdEncoders   = map[int]*zstd.Encoder{}
)

// zstdStream compresses msgs as one zstd stream with zstdTestWindow,
// flushed after each message.
func zstdStream(tb testing.TB, msgs [][]byte) [][]byte {
	tb.Helper()
	return zstdStreamWindow(tb, msgs, zstdTestWindow)
}

// zstdStreamWindow compresses msgs as one zstd stream with the given
// window, flushed after each message.
func zstdStreamWindow(tb testing.TB, msgs [][]byte, window int) [][]byte {
	tb.Helper()
	zstdEncodersMu.Lock()
	defer zstdEncodersMu.Unlock()
	var buf bytes.Buffer
	w := zstdEncoders[window]
	if w == nil {
		nw, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(window))
		if err != nil {
			tb.Fatal(err)
		}
		w, zstdEncoders[window] = nw, nw
	}
	w.Reset(&buf)
	defer w.Close()
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		if _, err := w.Write(m); err != nil {
			tb.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		out = append(out, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	return out
}

// streamMessages is a connection's worth of messages that exercises the
// edges: realistic frames, output ending exactly on the 32 KiB window,
// incompressible data in stored blocks, and messages far larger than a
// window or a zstd block.
func streamMessages(tb testing.TB, withEmpty bool) [][]byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	msgs := loadFrames(tb)
	// Bring the total output to exactly one window, then more windows.
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	fill := bytes.Repeat([]byte("x"), windowSize-total%windowSize)
	msgs = append(msgs, fill, bytes.Repeat([]byte("y"), windowSize), []byte("{}"))
	if withEmpty {
		msgs = append(msgs, []byte{}, []byte("{}"), []byte{})
	}
	msgs = append(msgs, random(100), random(70<<10), bytes.Repeat([]byte(`{"k":"v"},`), 60<<10))
	for range 50 {
		msgs = append(msgs, loadFrame(tb, "message_create.json"))
	}
	return msgs
}

func inflateAll(t *testing.T, inf Inflater, msgs, wire [][]byte, split bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	for i, c := range wire {
		var got []byte
		var err error
		if split && len(c) > 2 {
			cut := 1 + rng.IntN(len(c)-1)
			if len(c) >= 4 && bytes.Equal(c[cut-min(cut, 4):cut], zlibSuffix) {
				cut = len(c) // a part must not end like a whole message
			}
			if cut < len(c) {
				part, perr := inf.Inflate(c[:cut])
				if perr != nil || part != nil {
					t.Fatalf("message %d part: got %d bytes, %v; want nil, nil", i, len(part), perr)
				}
			}
			got, err = inf.Inflate(c[cut:])
		} else {
			got, err = inf.Inflate(c)
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(msgs[i]))
		}
	}
}

func TestZlibStream(t *testing.T) {
	t.Parallel()
	msgs := streamMessages(t, true)
	wire := zlibStream(t, msgs)
	impls := []struct {
		name string
		impl flateImpl
	}{{"klauspost", klauspostFlate}, {"stdlib", stdlibFlate}}
	for _, im := range impls {
		for _, split := range []bool{false, true} {
			name := im.name
			if split {
				name += "/split"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				z := newZlibInflater(im.impl)
				defer z.Close()
				inflateAll(t, z, msgs, wire, split)
				// A new connection: Reset, then a new stream.
				if err := z.Reset(); err != nil {
					t.Fatal(err)
				}
				inflateAll(t, z, msgs, zlibStream(t, msgs), split)
			})
		}
	}
}

// TestZlibStdlibWriter checks streams from the stdlib compressor too.
func TestZlibStdlibWriter(t *testing.T) {
	t.Parallel()
	msgs := loadFrames(t)
	var buf bytes.Buffer
	w := stdzlib.NewWriter(&buf)
	var wire [][]byte
	for _, m := range msgs {
		w.Write(m)
		w.Flush()
		wire = append(wire, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	inf, err := NewInflater(gateway.CompressionZlibStream)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	inflateAll(t, inf, msgs, wire, false)
}

func TestZstdStream(t *testing.T) {
	t.Parallel()
	msgs := streamMessages(t, false)
	wire := zstdStream(t, msgs)
	inf, err := NewInflater(gateway.CompressionZstdStream)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	inflateAll(t, inf, msgs, wire, false)
	if err := inf.Reset(); err != nil {
		t.Fatal(err)
	}
	inflateAll(t, inf, msgs, zstdStream(t, msgs), false)
}

func TestInflaterCorruptStream(t *testing.T) {
	t.Parallel()
	msgs := loadFrames(t)
	tests := []struct {
		name    string
		c       gateway.CompressionType
		stream  func(testing.TB, [][]byte) [][]byte
		garbage []byte
	}{
		{"zlib bad header", gateway.CompressionZlibStream, zlibStream, []byte{0x12, 0x34, 0x00, 0x00, 0xff, 0xff}},
		{"zlib bad block", gateway.CompressionZlibStream, zlibStream, []byte{0x78, 0x9c, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}},
		{"zstd bad magic", gateway.CompressionZstdStream, zstdStream, []byte("not zstd at all")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inf, err := NewInflater(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			defer inf.Close()
			if _, err := inf.Inflate(tt.garbage); !errors.Is(err, ErrCorruptStream) {
				t.Fatalf("err = %v, want ErrCorruptStream", err)
			}
			// The stream stays broken until Reset.
			wire := tt.stream(t, msgs)
			if _, err := inf.Inflate(wire[0]); !errors.Is(err, ErrCorruptStream) {
				t.Fatalf("after corruption: err = %v, want ErrCorruptStream", err)
			}
			if err := inf.Reset(); err != nil {
				t.Fatal(err)
			}
			inflateAll(t, inf, msgs, wire, false)
		})
	}
}

func TestInflaterClosed(t *testing.T) {
	t.Parallel()
	for _, c := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			inf, err := NewInflater(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := inf.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := inf.Inflate([]byte{0, 0, 0xff, 0xff}); !errors.Is(err, ErrInflaterClosed) {
				t.Fatalf("Inflate after Close: %v", err)
			}
			if err := inf.Reset(); !errors.Is(err, ErrInflaterClosed) {
				t.Fatalf("Reset after Close: %v", err)
			}
			if err := inf.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestIdentityInflater(t *testing.T) {
	t.Parallel()
	inf, err := NewInflater(gateway.CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	msg := loadFrame(t, "hello.json")
	got, err := inf.Inflate(msg)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Inflate = %q, %v", got, err)
	}
	if _, err := inf.Inflate(make([]byte, MaxPayload+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("oversized: err = %v, want ErrPayloadTooLarge", err)
	}
}

func TestZstdEmptyMessage(t *testing.T) {
	t.Parallel()
	inf, err := NewInflater(gateway.CompressionZstdStream)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	if _, err := inf.Inflate(nil); !errors.Is(err, ErrMalformedFrame) {
		t.Fatalf("err = %v, want ErrMalformedFrame", err)
	}
}

func TestParseCompression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    gateway.CompressionType
		wantErr bool
	}{
		{"", gateway.CompressionNone, false}, {"none", gateway.CompressionNone, false}, {"zlib-stream", gateway.CompressionZlibStream, false},
		{"zstd-stream", gateway.CompressionZstdStream, false}, {"zlib-payload", gateway.CompressionNone, true}, {"gzip", gateway.CompressionNone, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCompression(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseCompression(%q) = %q, %v", tt.in, got, err)
			}
			if tt.wantErr && !errors.Is(err, ErrUnknownCompression) {
				t.Fatalf("err = %v, want ErrUnknownCompression", err)
			}
		})
	}
	if _, err := NewInflater("brotli"); !errors.Is(err, ErrUnknownCompression) {
		t.Fatalf("NewInflater(brotli): %v", err)
	}
}

// fuzzMessages splits data into plaintext messages at each 0xFE byte.
func fuzzMessages(data []byte, keepEmpty bool) [][]byte {
	var msgs [][]byte
	for _, m := range bytes.Split(data, []byte{0xFE}) {
		if len(m) > 0 || keepEmpty {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// fuzzStreams returns the plaintext seeds of the inflate fuzz targets:
// the seed frames packed into streams of at most seedLimit bytes, messages
// separated by 0xFE, plus empty messages.
func fuzzStreams(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	var cur []byte
	for _, frame := range seedFrames(tb) {
		if len(cur) > 0 && len(cur)+1+len(frame) > seedLimit {
			out = append(out, cur)
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, 0xFE)
		}
		cur = append(cur, frame...)
	}
	return append(out, cur, []byte("{}\xFE\xFE{}\xFE"))
}

func FuzzInflateZlib(f *testing.F) {
	for _, s := range fuzzStreams(f) {
		f.Add(s, false)
	}
	// Each frame as the first message of a stream, so that a new inflater
	// decodes it.
	for _, frame := range seedFrames(f) {
		f.Add(zlibStream(f, [][]byte{frame})[0], true)
	}
	f.Add([]byte{0x78, 0x9c, 0, 0, 0xff, 0xff}, true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		if raw {
			// Arbitrary bytes as one message: errors only, never a panic.
			z := newZlibInflater(klauspostFlate)
			defer z.Close()
			out, err := z.Inflate(append(bytes.Clone(data), 0, 0, 0xff, 0xff))
			if err != nil && out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		msgs := fuzzMessages(data, true)
		z := newZlibInflater(klauspostFlate)
		defer z.Close()
		inflateAll(t, z, msgs, zlibStream(t, msgs), false)
	})
}

func FuzzInflateZstd(f *testing.F) {
	for _, s := range fuzzStreams(f) {
		f.Add(s, false)
	}
	for _, frame := range seedFrames(f) {
		f.Add(zstdStreamWindow(f, [][]byte{frame}, zstdFuzzWindow)[0], true)
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		inf := newZstdInflater()
		defer inf.Close()
		if raw {
			if out, err := inf.Inflate(data); err != nil && out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		msgs := fuzzMessages(data, false)
		inflateAll(t, inf, msgs, zstdStreamWindow(t, msgs, zstdFuzzWindow), false)
	})
}
