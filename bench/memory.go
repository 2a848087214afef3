package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"
)

// memResult is one cache-memory probe.
type memResult struct {
	HeapBefore uint64  `json:"heap_before_bytes"`
	HeapAfter  uint64  `json:"heap_after_bytes"`
	Guilds     int     `json:"guilds"`
	PerGuildKB float64 `json:"kb_per_guild"`
	StartupS   float64 `json:"startup_s"`
	// RSS is the start: VmRSS before Run (after a GC and
	// debug.FreeOSMemory) and VmHWM from then until every guild arrived.
	RSS rssPhase `json:"rss_start"`
	// SettledRSSKB is VmRSS after the start, once a GC and
	// debug.FreeOSMemory have returned the start's garbage to the OS.
	SettledRSSKB  int64   `json:"rss_settled_kb"`
	RSSPerGuildKB float64 `json:"rss_kb_per_guild"` // (settled − before) ÷ guilds
}

// liveHeap collects garbage until the live heap settles and returns it.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// runMemChild starts a party with spec's caches, waits until every
// GUILD_CREATE is handled and reports the live heap it added per guild,
// and the resident memory: its peak during the start, the settled RSS
// after it and the RSS added per guild. The bot's own fixed cost
// (clients, shards, buffers) is included; the "caches off" row shows it.
func runMemChild(spec partySpec) (memResult, error) {
	installEngine(spec.Engine)
	before := liveHeap()
	debug.FreeOSMemory()
	rss := beginPhase()
	c := newCounter(spec.Shards)
	begin := time.Now()
	p, err := startParty(context.Background(), spec, c)
	if err != nil {
		return memResult{}, err
	}
	defer p.stop()
	ctx, cancel := withTimeout(3 * time.Minute)
	defer cancel()
	if err := c.waitReady(ctx, spec.Shards, spec.Guilds); err != nil {
		return memResult{}, err
	}
	rss.endPhase()
	res := memResult{StartupS: time.Since(begin).Seconds(), HeapBefore: before, Guilds: spec.Guilds, RSS: rss}
	res.HeapAfter = liveHeap()
	if res.HeapAfter > before {
		res.PerGuildKB = float64(res.HeapAfter-before) / float64(spec.Guilds) / 1024
	}
	debug.FreeOSMemory()
	if m, err := readProcMem(); err != nil {
		res.RSS.Err = err.Error()
	} else if rss.Err == "" {
		res.SettledRSSKB = m.RSSKB
		res.RSSPerGuildKB = perGuildKB(m.RSSKB-rss.BeforeKB, spec.Guilds)
	}
	runtime.KeepAlive(p)
	return res, nil
}

// perGuildKB is kb ÷ guilds, or 0 when nothing was added.
func perGuildKB(kb int64, guilds int) float64 {
	if kb <= 0 || guilds <= 0 {
		return 0
	}
	return float64(kb) / float64(guilds)
}

// netOfCachesOff fills each cell's RSS per cached guild: its RSS per guild
// less that of its party's caches-off cell. Starting a bot grows its RSS
// by a fixed cost (clients, shards, buffers, the runtime's own) that does
// not depend on what it caches; spread over a few hundred guilds it is
// most of the RSS per guild, so only the net figure compares two caches.
// A cell whose party has no caches-off figures, or that has none itself,
// is left at 0.
func netOfCachesOff(cells []memCell) {
	measured := func(c memCell) bool { return c.Err == "" && len(c.RepsRSSKB) > 0 }
	off := map[string]float64{}
	for _, c := range cells {
		if c.CachesOff && measured(c) {
			off[c.Party] = c.RSSPerGuildKB
		}
	}
	for i := range cells {
		c := &cells[i]
		if base, ok := off[c.Party]; ok && !c.CachesOff && measured(*c) {
			c.CachedRSSPerGuildKB = c.RSSPerGuildKB - base
		}
	}
}
