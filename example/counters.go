package main

import (
	"sync"
	"sync/atomic"
)

// clusterCounters are one cluster's figures. They outlive the cluster's
// workers (a new worker is made for every restart), so they live in the
// master's counters table, looked up by cluster ID. All fields are atomics:
// the cluster's listener writes them while the master reads them.
type clusterCounters struct {
	events       atomic.Uint64 // gateway dispatches delivered to the worker
	messages     atomic.Uint64 // MESSAGE_CREATE from users (bots ignored)
	pings        atomic.Uint64 // !ping commands seen
	cooldowns    atomic.Uint64 // !ping ignored because of the user's cooldown
	pongs        atomic.Uint64 // "pong" replies Discord accepted
	replyErrors  atomic.Uint64 // replies the REST API refused or that failed
	replyDropped atomic.Uint64 // replies dropped because the reply queue was full

	statsCommands atomic.Uint64 // !stats commands seen
	statsReplies  atomic.Uint64 // !stats replies Discord accepted
	serviceErrors atomic.Uint64 // bus requests to the ping counter service or the Manager that failed
}

// counters is the process-wide table of clusterCounters plus the running
// total of events. It is safe for concurrent use; the zero value is not
// usable (use newCounters).
type counters struct {
	total   atomic.Uint64
	onEvent func(total uint64) // test hook, called after every counted event; may be nil

	mu       sync.Mutex
	clusters map[int]*clusterCounters
}

func newCounters(onEvent func(total uint64)) *counters {
	return &counters{onEvent: onEvent, clusters: make(map[int]*clusterCounters)}
}

// cluster returns the counters of cluster id, creating them on first use.
func (c *counters) cluster(id int) *clusterCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, ok := c.clusters[id]
	if !ok {
		cc = &clusterCounters{}
		c.clusters[id] = cc
	}
	return cc
}

// countEvent counts one dispatch of cluster cc.
func (c *counters) countEvent(cc *clusterCounters) {
	cc.events.Add(1)
	t := c.total.Add(1)
	if c.onEvent != nil {
		c.onEvent(t)
	}
}

// clusterTotals are the sums of every cluster's counters.
type clusterTotals struct {
	events, messages, pings, cooldowns, pongs, replyErrors, replyDropped uint64
	statsCommands, statsReplies, serviceErrors                           uint64
}

// sum reads every cluster's counters once and returns their totals and each
// cluster's figures by ID. The totals are the sum of the figures returned,
// even while events keep arriving.
func (c *counters) sum() (clusterTotals, map[int]clusterTotals) {
	c.mu.Lock()
	per := make(map[int]clusterTotals, len(c.clusters))
	for id, cc := range c.clusters {
		per[id] = cc.load()
	}
	c.mu.Unlock()
	var t clusterTotals
	for _, p := range per {
		t.events += p.events
		t.messages += p.messages
		t.pings += p.pings
		t.cooldowns += p.cooldowns
		t.pongs += p.pongs
		t.replyErrors += p.replyErrors
		t.replyDropped += p.replyDropped
		t.statsCommands += p.statsCommands
		t.statsReplies += p.statsReplies
		t.serviceErrors += p.serviceErrors
	}
	return t, per
}

// load reads the counters of one cluster.
func (cc *clusterCounters) load() clusterTotals {
	return clusterTotals{
		events:        cc.events.Load(),
		messages:      cc.messages.Load(),
		pings:         cc.pings.Load(),
		cooldowns:     cc.cooldowns.Load(),
		pongs:         cc.pongs.Load(),
		replyErrors:   cc.replyErrors.Load(),
		replyDropped:  cc.replyDropped.Load(),
		statsCommands: cc.statsCommands.Load(),
		statsReplies:  cc.statsReplies.Load(),
		serviceErrors: cc.serviceErrors.Load(),
	}
}
