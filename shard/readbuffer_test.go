package shard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

// TestPooledDataDoesNotLeakIntoEvents checks that the read buffer, which
// every frame of a connection is read into, is not aliased by the decoded
// events: events kept by the handler still hold their own content after
// later, differently sized dispatches reused that buffer.
func TestPooledDataDoesNotLeakIntoEvents(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	r.keep = true
	s := openShard(t, srv, 0, 1, r.handle)
	const n = 60
	want := make([]string, n)
	for i := range want {
		// Lengths go up and down so that a buffer is reused both for a
		// longer and for a shorter payload than the one before.
		want[i] = fmt.Sprintf("message %d %s", i, strings.Repeat("xyz", (i*37)%90))
		if err := srv.EmitMessage(0, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	assertNoLoss(t, srv, s, r, n)
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []string
	for _, ev := range r.events {
		if m, ok := ev.(gateway.EventMessageCreate); ok {
			got = append(got, m.Content)
		}
	}
	if len(got) != n {
		t.Fatalf("kept %d messages, want %d", len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: content %q, want %q", i, got[i], want[i])
		}
	}
}

func TestReadFrame(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		size    int
		start   []byte
		wrap    func(io.Reader) io.Reader
		wantErr error
	}{
		{"empty", 0, nil, nil, nil},
		{"small into nil", 100, nil, nil, nil},
		{"exactly the first buffer", minFrameBuffer, nil, nil, nil},
		{"one over the first buffer", minFrameBuffer + 1, nil, nil, nil},
		{"large, one byte per read", 3*minFrameBuffer + 7, nil, iotest.OneByteReader, nil},
		{"data with EOF", 500, nil, iotest.DataErrReader, nil},
		{"reused buffer with old bytes", 300, []byte(strings.Repeat("z", 1000)), nil, nil},
		{"read error", 100, nil, func(r io.Reader) io.Reader { return io.MultiReader(r, iotest.ErrReader(errBoom)) }, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := make([]byte, tt.size)
			for i := range want {
				want[i] = byte('a' + i%26)
			}
			var r io.Reader = bytes.NewReader(want)
			if tt.wrap != nil {
				r = tt.wrap(r)
			}
			got, err := readFrame(r, tt.start[:0])
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes, want %d equal bytes", len(got), len(want))
			}
		})
	}
}
