package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/megane-go/megane/cluster"
)

// tracker follows the Manager's lifecycle events for the moment all
// clusters are first ready. Its handle method is the megane.WithEventHandler
// function: it runs under the Manager's event lock, so it only records a time
// and closes a channel, and never calls the Manager. The Manager logs every
// event itself.
type tracker struct {
	allReady chan struct{} // closed at the first AllClustersReady
	once     sync.Once
	hook     func()        // test hook, called once at AllClustersReady; may be nil
	events   func() uint64 // the running event total, read at AllClustersReady
	bar      *progressBar  // draws the startup progress on a terminal; nil otherwise (the Manager logs it)

	mu  sync.Mutex
	at  time.Time // when all clusters became ready
	atN uint64    // the event total then
}

func newTracker(events func() uint64, hook func()) *tracker {
	return &tracker{allReady: make(chan struct{}), hook: hook, events: events}
}

// handle records one lifecycle event.
func (t *tracker) handle(e cluster.Event) {
	if e.Kind == cluster.EventStartupProgress && t.bar != nil {
		t.bar.show(e.Progress)
	}
	if e.Kind == cluster.EventAllReady {
		t.once.Do(func() {
			t.mu.Lock()
			t.at, t.atN = e.At, t.events()
			t.mu.Unlock()
			close(t.allReady)
			if t.hook != nil {
				t.hook()
			}
		})
	}
}

// readyAt returns when all clusters became ready and the event total then,
// or the zero time.
func (t *tracker) readyAt() (time.Time, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.at, t.atN
}

// progress logs the bot's progress every interval until ctx ends: clusters
// and shards ready, guilds cached, events per second since the last line,
// restarts. It runs on its own goroutine, owned by runBot.
func progress(ctx context.Context, every time.Duration, log *slog.Logger, collect func() summary) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lastEvents uint64
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s := collect()
			rate := float64(s.EventsReceived-lastEvents) / now.Sub(last).Seconds()
			lastEvents, last = s.EventsReceived, now
			log.Info("progress",
				slog.Int("clusters_ready", s.ClustersReady), slog.Int("clusters", s.Clusters),
				slog.Int("shards_ready", s.ShardsReady), slog.Int("shards", s.Shards),
				slog.Int("guilds", s.Guilds),
				slog.Uint64("events", s.EventsReceived), slog.Float64("events_per_second", round1(rate)),
				slog.Uint64("pings", s.Pings), slog.Int("restarts", s.Restarts))
		}
	}
}

// round1 rounds to one decimal, for readable logs and summaries.
func round1(f float64) float64 {
	return float64(int64(f*10+0.5)) / 10
}
