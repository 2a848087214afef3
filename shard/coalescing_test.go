package shard

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/pacedconn"
)

// TestReadCoalescingDialsPaced: WithReadCoalescing reads the gateway
// through a paced socket where the platform has one, with and without a
// batch handler; without it the shard reads through the netpoller.
func TestReadCoalescingDialsPaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want bool
	}{
		{"default", nil, false},
		{"coalesced", []Option{WithReadCoalescing(time.Millisecond)}, pacedconn.Supported},
		{"coalesced batches", []Option{WithReadCoalescing(time.Millisecond),
			WithBatchHandler(func(*Shard, []Dispatch) {})}, pacedconn.Supported},
		{"zero", []Option{WithReadCoalescing(0)}, false},
		{"negative", []Option{WithReadCoalescing(-time.Second)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New(t, fakeOpts()...)
			s := openShard(t, srv, 0, 1, func(gateway.Gateway, gateway.EventType, int, gateway.EventData) {}, tt.opts...)
			s.mu.Lock()
			c := s.conn
			s.mu.Unlock()
			if c == nil {
				t.Fatal("no connection after Open")
			}
			if got := pacedconn.IsPaced(c.ws.UnderlyingConn()); got != tt.want {
				t.Fatalf("paced = %v, want %v (%T)", got, tt.want, c.ws.UnderlyingConn())
			}
		})
	}
}
