package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/stats"
)

// ErrAlreadyRunning is returned by Run when another Run of the same
// Collector has not returned yet.
var ErrAlreadyRunning = errors.New("stats: collector already running")

// Collector builds Snapshots from its sources and the Go runtime.
//
// Create it with New; the zero value is not usable. A Collector must not be
// copied. All methods are safe for concurrent use; collections are
// serialised, so Collect called during another collection waits for it.
//
// Cost: one collection calls runtime.ReadMemStats, which stops the world
// for a few tens of microseconds, plus whatever the sources cost.
type Collector struct {
	cfg     config
	sem     chan struct{} // capacity 1: the right to collect
	running atomic.Bool
	latest  atomic.Pointer[stats.Snapshot]

	// Guarded by sem.
	seq        uint64
	prevTime   time.Time
	prevCPU    cpuTimes
	prevEvents map[shardKey]uint64
}

type shardKey struct{ cluster, shard int }

// New returns a Collector over the given sources (see WithClusters and
// WithServices; with none, snapshots hold only the manager's figures). It
// starts no goroutine: call Run to collect every interval.
func New(opts ...Option) *Collector {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	now := time.Now()
	if cfg.start.IsZero() {
		cfg.start = now
	}
	if cfg.timeout <= 0 {
		cfg.timeout = cfg.interval
	}
	return &Collector{
		cfg:        cfg,
		sem:        make(chan struct{}, 1),
		prevTime:   now,
		prevCPU:    cfg.readCPU(),
		prevEvents: map[shardKey]uint64{},
	}
}

// Latest returns the most recent snapshot, and false if none has been
// collected yet. The snapshot is shared: do not modify it.
func (c *Collector) Latest() (stats.Snapshot, bool) {
	s := c.latest.Load()
	if s == nil {
		return stats.Snapshot{}, false
	}
	return *s, true
}

// Run collects at once and then every interval until ctx ends, then returns
// nil. Each collection is bounded by the collect timeout. Run returns
// ErrAlreadyRunning if another Run of c is active.
func (c *Collector) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer c.running.Store(false)
	t := time.NewTicker(c.cfg.interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
		_, err := c.Collect(cctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.cfg.logger.Warn("stats collection failed", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Collect builds a snapshot now, stores it as the latest, calls the update
// hooks and returns it. It fails only if ctx ends before the collection can
// start (another collection holds it); sources that run out of time give
// partial figures instead.
func (c *Collector) Collect(ctx context.Context) (stats.Snapshot, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return stats.Snapshot{}, fmt.Errorf("stats: collect: %w", ctx.Err())
	}
	defer func() { <-c.sem }()
	if err := ctx.Err(); err != nil {
		return stats.Snapshot{}, fmt.Errorf("stats: collect: %w", err)
	}

	var clusters []stats.ClusterStats
	for _, src := range c.cfg.clusters {
		clusters = append(clusters, src.ClusterStats(ctx)...)
	}
	var services []stats.ServiceStats
	for _, src := range c.cfg.services {
		services = append(services, src.ServiceStats(ctx)...)
	}

	now := time.Now()
	cpu := c.cfg.readCPU()
	snap := stats.Snapshot{
		Time:     now,
		Manager:  c.managerStats(now, cpu),
		Clusters: c.normaliseClusters(clusters),
		Services: c.normaliseServices(services),
	}
	c.deriveRates(snap.Clusters, now)
	snap.Totals = computeTotals(snap.Clusters, snap.Services)
	c.seq++
	snap.Seq = c.seq
	c.prevTime, c.prevCPU = now, cpu

	c.latest.Store(&snap)
	for _, fn := range c.cfg.onUpdate {
		c.callHook(fn, snap)
	}
	return snap, nil
}

// Read builds a snapshot from the sources now, for a Prometheus scrape:
// unlike Collect it does not wait for a collection in progress, the
// snapshot does not become the latest, the update hooks do not see it,
// and it has no Seq. Its Manager figures are only the uptime and
// GOMAXPROCS (Read does not stop the world for runtime.ReadMemStats), and
// its shards' EventsPerSecond are what the sources say (no rate is
// derived). ctx bounds the sources as it does for Collect.
func (c *Collector) Read(ctx context.Context) stats.Snapshot {
	var clusters []stats.ClusterStats
	for _, src := range c.cfg.clusters {
		clusters = append(clusters, src.ClusterStats(ctx)...)
	}
	var services []stats.ServiceStats
	for _, src := range c.cfg.services {
		services = append(services, src.ServiceStats(ctx)...)
	}
	now := time.Now()
	snap := stats.Snapshot{
		Time:     now,
		Manager:  stats.ManagerStats{Uptime: now.Sub(c.cfg.start), GOMAXPROCS: runtime.GOMAXPROCS(0)},
		Clusters: c.normaliseClusters(clusters),
		Services: c.normaliseServices(services),
	}
	snap.Totals = computeTotals(snap.Clusters, snap.Services)
	return snap
}

func (c *Collector) callHook(fn func(stats.Snapshot), s stats.Snapshot) {
	defer func() {
		if v := recover(); v != nil {
			c.cfg.logger.Error("stats update hook panicked", slog.Any("panic", v), slog.Uint64("seq", s.Seq))
		}
	}()
	fn(s)
}

// managerStats reads the runtime figures. Called with sem held.
func (c *Collector) managerStats(now time.Time, cpu cpuTimes) stats.ManagerStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := stats.ManagerStats{
		Uptime:         now.Sub(c.cfg.start),
		Goroutines:     runtime.NumGoroutine(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		HeapAlloc:      ms.HeapAlloc,
		HeapInuse:      ms.HeapInuse,
		HeapObjects:    ms.HeapObjects,
		Sys:            ms.Sys,
		GCPauseTotal:   time.Duration(ms.PauseTotalNs),
		NumGC:          ms.NumGC,
		CPUUser:        max(cpu.user-c.prevCPU.user, 0),
		CPUSystem:      max(cpu.system-c.prevCPU.system, 0),
		CPUUserTotal:   cpu.user,
		CPUSystemTotal: cpu.system,
		CPUSource:      cpu.source,
	}
	if wall := now.Sub(c.prevTime); wall > 0 {
		m.CPUPercent = 100 * float64(m.CPUUser+m.CPUSystem) / float64(wall)
	}
	return m
}

// normaliseClusters sorts clusters and their shards by ID and drops
// duplicates (keeping the first reported).
func (c *Collector) normaliseClusters(in []stats.ClusterStats) []stats.ClusterStats {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b stats.ClusterStats) int { return cmp.Compare(a.ID, b.ID) })
	out = slices.CompactFunc(out, func(a, b stats.ClusterStats) bool {
		if a.ID == b.ID {
			c.cfg.logger.Warn("stats: duplicate cluster dropped", slog.Int("cluster", a.ID))
			return true
		}
		return false
	})
	for i := range out {
		sh := slices.Clone(out[i].Shards)
		slices.SortStableFunc(sh, func(a, b stats.ShardStats) int { return cmp.Compare(a.ID, b.ID) })
		cl := out[i].ID
		out[i].Shards = slices.CompactFunc(sh, func(a, b stats.ShardStats) bool {
			if a.ID == b.ID {
				c.cfg.logger.Warn("stats: duplicate shard dropped", slog.Int("cluster", cl), slog.Int("shard", a.ID))
				return true
			}
			return false
		})
	}
	return out
}

// normaliseServices sorts services by name and drops duplicates.
func (c *Collector) normaliseServices(in []stats.ServiceStats) []stats.ServiceStats {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b stats.ServiceStats) int { return cmp.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b stats.ServiceStats) bool {
		if a.Name == b.Name {
			c.cfg.logger.Warn("stats: duplicate service dropped", slog.String("service", a.Name))
			return true
		}
		return false
	})
}

// deriveRates fills in EventsPerSecond for shards whose source left it zero,
// from the Events counter seen in the previous snapshot, and remembers the
// counters of the shards present now (so removed shards are forgotten). A
// counter that went down (the shard restarted) counts from zero.
func (c *Collector) deriveRates(clusters []stats.ClusterStats, now time.Time) {
	secs := now.Sub(c.prevTime).Seconds()
	next := make(map[shardKey]uint64, len(c.prevEvents))
	for ci := range clusters {
		cl := &clusters[ci]
		for si := range cl.Shards {
			sh := &cl.Shards[si]
			key := shardKey{cl.ID, sh.ID}
			next[key] = sh.Events
			prev, seen := c.prevEvents[key]
			if sh.EventsPerSecond != 0 || !seen || secs <= 0 {
				continue
			}
			delta := sh.Events
			if sh.Events >= prev {
				delta = sh.Events - prev
			}
			sh.EventsPerSecond = float64(delta) / secs
		}
	}
	c.prevEvents = next
}

// computeTotals sums clusters, shards and services.
func computeTotals(clusters []stats.ClusterStats, services []stats.ServiceStats) stats.Totals {
	var t stats.Totals
	for _, c := range clusters {
		t.Clusters++
		if c.Ready {
			t.ClustersReady++
		}
		t.Guilds += c.Guilds
		t.Users += c.Users
		t.Channels += c.Channels
		t.Members += c.Members
		for _, sh := range c.Shards {
			t.Shards++
			if sh.Ready {
				t.ShardsReady++
			}
			t.Events += sh.Events
			t.EventsPerSecond += sh.EventsPerSecond
		}
	}
	for _, s := range services {
		t.Services++
		if s.Ready {
			t.ServicesReady++
		}
	}
	return t
}
