package megane

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/notify"
	"github.com/megane-go/megane/shard"
)

// WithNotifier posts the bot's lifecycle events to a Discord channel
// through n (see package notify): every event is handed to n.Notify,
// after the WithEventHandler function, which never blocks the event feed.
// Run serves n: it starts n.Serve before the clusters and stops it after
// they and the services have stopped, and so posts the error that stopped
// Run too; that last post adds at most 5 s to Run's return. A Notifier
// serves one Manager. nil means none (the default).
func WithNotifier(n *notify.Notifier) Option { return func(c *config) { c.notifier = n } }

// eventHandler is the function every event is handed to first: the
// WithEventHandler function, then the notifier's Notify.
func (c *config) eventHandler() func(cluster.Event) {
	h, n := c.handler, c.notifier
	switch {
	case n == nil:
		return h
	case h == nil:
		return n.Notify
	}
	return func(e cluster.Event) {
		h(e)
		n.Notify(e)
	}
}

// budgetLowShare is the share of session_start_limit.total under which the
// identify budget is low: fewer than a tenth left.
const budgetLowShare = 10

// budgetWatch says when the identify budget runs low: after each new
// session, it reads what the queue has left, and emits
// EventIdentifyBudgetLow once each time that falls under a tenth of the
// total.
type budgetWatch struct {
	queue interface{ Remaining() int } // shard.LocalQueue
	total atomic.Int64                 // session_start_limit.total, from GET /gateway/bot
	low   atomic.Bool                  // the event was sent and the budget has not been refilled since
}

// startRunParts starts what Run runs beside the fleet for the events: the
// identify budget's watch over queue and the notifier's Serve. stop ends
// them, waiting for Serve to post what is left.
func (m *Manager) startRunParts(ctx context.Context, queue shard.Queue, total int) (stop func()) {
	if r, ok := queue.(interface{ Remaining() int }); ok {
		w := &budgetWatch{queue: r}
		w.total.Store(int64(total))
		m.budget.Store(w)
	}
	n := m.cfg.notifier
	if n == nil {
		return func() { m.budget.Store(nil) }
	}
	// The notifier outlives ctx: it posts what the clusters say while they
	// stop, until stop is called.
	nctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Serve(nctx) })
	return func() {
		m.budget.Store(nil)
		cancel()
		wg.Wait()
	}
}

// setBudgetTotal takes a fresh session_start_limit.total.
func (m *Manager) setBudgetTotal(total int) {
	if w := m.budget.Load(); w != nil {
		w.total.Store(int64(total))
	}
}

// checkBudget runs after each event of a cluster: a new session spent an
// identify, so it emits EventIdentifyBudgetLow if what is left has just
// fallen under a tenth of the total. A refilled budget arms it again. Its
// cost is one lock of the queue per new session.
func (m *Manager) checkBudget(e cluster.Event) {
	if e.Kind != cluster.EventShardReady {
		return
	}
	w := m.budget.Load()
	if w == nil {
		return
	}
	left, total := w.queue.Remaining(), w.total.Load()
	if left < 0 || total <= 0 {
		return
	}
	if int64(left)*budgetLowShare >= total {
		w.low.Store(false)
		return
	}
	if !w.low.CompareAndSwap(false, true) {
		return
	}
	low := cluster.Event{Kind: cluster.EventIdentifyBudgetLow, Cluster: -1, Shard: -1, Remaining: left, At: time.Now()}
	m.log.LogAttrs(context.Background(), slog.LevelWarn, "identify budget low", append(low.LogAttrs(), slog.Int64("total", total))...)
	m.emit(low)
}
