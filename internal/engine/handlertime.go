package engine

import (
	"time"

	"github.com/disgoorg/disgo/bot"
)

// Observer takes one measurement, in seconds; a prometheus.Observer (a
// Histogram, or a HistogramVec's series) is one. It must be safe for
// concurrent use, and cheap: it runs on the executor goroutine for every
// event.
type Observer interface {
	Observe(seconds float64)
}

// WithHandlerObserver makes the cluster measure the time its worker's
// listeners take for each event delivered live (not those held in or
// released from maintenance mode, nor those a maintenance handler takes)
// and give it to o. It costs two readings of the monotonic clock per
// event (about 70 ns together on a loaded 2-core VM), on the executor
// goroutine, and nothing else of the cluster's (no allocation, no lock);
// o's own cost comes on top (a prometheus.Histogram's Observe is a bucket
// search and a few atomic adds, about 25 ns). nil (the default) measures
// nothing.
func WithHandlerObserver(o Observer) Option { return func(c *config) { c.handlerTime = o } }

// clockBase is what deliverTimed's readings count from: time.Since of a
// time.Time that has a monotonic reading reads only the monotonic clock,
// where a time.Now would read the wall clock as well (about 100 ns a pair
// on the 2-core test machine, against 70).
var clockBase = time.Now()

// deliverTimed is deliver measured by o.
func (f *forwarder) deliverTimed(inc *incarnation, e bot.Event, o Observer) {
	start := time.Since(clockBase)
	f.deliver(inc, e)
	o.Observe((time.Since(clockBase) - start).Seconds())
}
