//go:build disgo_bench

package shard

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

// disgo's own gateway, fed the same traffic. Build tag disgo_bench; run
// without -race (disgo's gateway has data races).
func init() {
	benchClients = append(benchClients, benchClient{"disgo", openDisgoClient})
}

func openDisgoClient(b *testing.B, srv *discordtest.Server, c gateway.CompressionType, onMessage func()) func() {
	handler := func(_ gateway.Gateway, t gateway.EventType, _ int, _ gateway.EventData) {
		if t == gateway.EventTypeMessageCreate {
			onMessage()
		}
	}
	g := gateway.New(srv.Token(), handler,
		gateway.WithURL(srv.GatewayURL()),
		gateway.WithShardID(0), gateway.WithShardCount(1),
		gateway.WithIntents(gateway.IntentsDefault),
		gateway.WithCompression(c),
		gateway.WithLogger(quietLogger()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := g.Open(ctx); err != nil {
		b.Fatal(err)
	}
	return func() { g.Close(context.Background()) }
}
