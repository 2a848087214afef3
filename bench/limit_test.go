package main

import (
	"log/slog"
	"testing"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/wire"
)

// TestRecordAndReplay proves the decode-only limit decodes exactly the
// traffic it recorded, for every transport compression and both streams,
// through both decode paths.
func TestRecordAndReplay(t *testing.T) {
	t.Parallel()
	const n = 60
	for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		for _, mixed := range []bool{false, true} {
			name := string(comp)
			if name == "" {
				name = "none"
			}
			if mixed {
				name += "/mixed"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := discordtest.New(t, discordtest.WithShards(16), discordtest.WithGuilds(40),
					discordtest.WithIdentifyWindow(0), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
				rec, err := record(s, comp, n, mixed)
				if err != nil {
					t.Fatal(err)
				}
				for _, dec := range []struct {
					name string
					fn   func(recording) (int64, error)
				}{{"wire", decodeFast}, {"gateway.Message", decodeStd}, {"scan only", scanOnly}, {"validate only", validateOnly}} {
					got, err := dec.fn(rec)
					if err != nil {
						t.Fatalf("%s: %v", dec.name, err)
					}
					if got != n {
						t.Errorf("%s decoded %d traffic events, recorded %d", dec.name, got, n)
					}
				}
				if size := frameSize(rec); !mixed && size < 500 {
					t.Errorf("MESSAGE_CREATE frame of %d bytes; expected a realistic one", size)
				}
			})
		}
	}
}

func TestLoopMeasuresRepetitions(t *testing.T) {
	t.Parallel()
	s := discordtest.New(t, discordtest.WithIdentifyWindow(0), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	rec, err := record(s, gateway.CompressionNone, 20, false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := loop(rec, 3, 0.01, decodeFast)
	if err != nil {
		t.Fatal(err)
	}
	if f.Reps != 3 || len(f.Samples) != 3 || f.EventsPerCPUS <= 0 {
		t.Errorf("loop = %+v", f)
	}
	for _, s := range f.Samples {
		if s.Events%20 != 0 || s.Events == 0 {
			t.Errorf("a repetition decoded %d events, not whole passes of 20", s.Events)
		}
	}
}

// BenchmarkDecodeLimit is the decode-only limit as a go test benchmark:
// one recorded MESSAGE_CREATE replayed through wire with the fast engine
// and through gateway.Message with encoding/json. The command's figures
// come from `go run ./bench`; this is for profiling the decode path alone:
//
//	go test -run '^$' -bench DecodeLimit -cpuprofile cpu.out ./bench
func BenchmarkDecodeLimit(b *testing.B) {
	s := discordtest.New(b, discordtest.WithIdentifyWindow(0), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	rec, err := record(s, gateway.CompressionNone, 1000, false)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fast bool
		fn   func(recording) (int64, error)
	}{{"wire+fast", true, decodeFast}, {"gateway.Message+encoding-json", false, decodeStd}} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.fast {
				defer wire.UseFastJSON()()
			}
			var events int64
			for b.Loop() {
				n, err := tc.fn(rec)
				if err != nil {
					b.Fatal(err)
				}
				events += n
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		})
	}
}
