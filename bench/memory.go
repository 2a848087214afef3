package main

import (
	"context"
	"runtime"
	"time"
)

// memResult is one cache-memory probe.
type memResult struct {
	HeapBefore uint64  `json:"heap_before_bytes"`
	HeapAfter  uint64  `json:"heap_after_bytes"`
	Guilds     int     `json:"guilds"`
	PerGuildKB float64 `json:"kb_per_guild"`
	StartupS   float64 `json:"startup_s"`
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
// GUILD_CREATE is handled and reports the live heap it added per guild.
// The bot's own fixed cost (clients, shards, buffers) is included; the
// "caches off" row shows it.
func runMemChild(spec partySpec) (memResult, error) {
	installEngine(spec.Engine)
	before := liveHeap()
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
	res := memResult{StartupS: time.Since(begin).Seconds(), HeapBefore: before, Guilds: spec.Guilds}
	res.HeapAfter = liveHeap()
	if res.HeapAfter > before {
		res.PerGuildKB = float64(res.HeapAfter-before) / float64(spec.Guilds) / 1024
	}
	runtime.KeepAlive(p)
	return res, nil
}
