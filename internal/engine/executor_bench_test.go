package engine

import (
	"context"
	"testing"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/collector"
	"github.com/megane-go/megane/shard"
)

// BenchmarkExecutorForward measures the dispatch path's own cost per
// event: a shard's batch of 64 dispatches through tap, the executor and
// the forwarder to one listener that does nothing (disgo's decoding and
// handlers are left out). It is what maintenance mode must not slow down
// while off. The listener's time goes to a megane_handler_duration_seconds
// series, as in a Manager (WithHandlerObserver).
func BenchmarkExecutorForward(b *testing.B) {
	client := &bot.Client{}
	a := &attempt{client: client, crashc: make(chan error, 1)}
	e := newExecutor(64, 0, []int{0}, nil)
	a.exec = e
	var f forwarder
	inc := newIncarnation(context.Background(), a, nil)
	n := 0
	inc.add([]bot.EventListener{listenerFunc(func(bot.Event) { n++ })})
	f.cur.Store(inc)
	ev := events.NewGenericEvent(client, 1, 0)
	e.handle = func(item) { f.OnEvent(ev) }
	e.onPanic = func(r any, _ []byte) { b.Errorf("panic: %v", r) }
	e.handlerTime = collector.NewHistograms().Handler.WithLabelValues("0")
	s := shard.New("t", 0, 1, nil)
	ds := make([]shard.Dispatch, 64)
	for i := range ds {
		ds[i] = shard.Dispatch{Seq: i + 1, Size: 1000, Type: gateway.EventTypeMessageCreate}
	}
	go e.run()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(ds) {
		e.tap(s, ds)
	}
	e.abandon()
	<-e.done
	b.StopTimer()
}
