package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// kind is one kind of fault the soak injects.
type kind string

// The fault kinds. Shard faults go through the fake Discord and act on one
// shard's live connection; cluster faults go through the Manager, the bus
// or the worker of one cluster; the rest act on the whole bot.
const (
	// Gateway faults (the fake Discord), on one shard.
	kindReconnect     kind = "op7_reconnect"
	kindInvalidResume kind = "op9_resumable"
	kindInvalidFresh  kind = "op9_not_resumable" // ends the session
	kindClose4000     kind = "close_4000"
	kindClose4001     kind = "close_4001"
	kindClose4002     kind = "close_4002"
	kindClose4005     kind = "close_4005"
	kindClose4008     kind = "close_4008"
	kindClose1006     kind = "close_1006"
	kindClose1011     kind = "close_1011"
	kindClose4003     kind = "close_4003" // ends the session
	kindClose4007     kind = "close_4007" // ends the session
	kindClose4009     kind = "close_4009" // ends the session
	kindDrop          kind = "tcp_drop"
	kindZombie        kind = "zombie"
	kindMalformed     kind = "malformed_frame"
	kindDMGuild       kind = "dm_guild_create"
	// Client latency (the fake Discord), for every connection.
	kindLatencyOn  kind = "latency_on"
	kindLatencyOff kind = "latency_off"
	// Worker and bus faults, on one cluster.
	kindListenerPanic kind = "listener_panic"
	kindLaunchPanic   kind = "launch_panic"
	kindSlowHandler   kind = "slow_handler"
	kindMaintenance   kind = "maintenance"
	kindEvalPanic     kind = "eval_panic"
	kindEvalFuncPanic kind = "evalfunc_panic"
	kindCommandPanic  kind = "command_panic"
	// Restarts (the Manager), of one cluster or rolling over all.
	kindRestartFull   kind = "restart_full" // ends the cluster's sessions
	kindRestartResume kind = "restart_resume"
	kindRestartWorker kind = "restart_worker"
	kindRollingFull   kind = "rolling_full" // ends every session
	kindRollingResume kind = "rolling_resume"
	kindRollingWorker kind = "rolling_worker"
	// The service.
	kindServiceError kind = "service_error"
	kindServicePanic kind = "service_panic"
)

// target says what a kind of fault acts on.
type target uint8

const (
	onShard target = iota
	onCluster
	onBot
)

// kindInfo describes a kind of fault.
type kindInfo struct {
	kind   kind
	target target
	// code is the close code, for the close kinds.
	code int
	// endsSession: the fault ends the sessions it hits without a resume
	// (the bot must identify afresh), so it justifies the loss of their
	// undelivered tail.
	endsSession bool
	// panics: the fault is a panic (or a service crash) that someone must
	// report; it took effect when it fired, not when it was armed.
	panics bool
}

// kinds lists every kind, in a fixed order (the plan's shuffles start from
// it, so it must not depend on map order).
var kinds = []kindInfo{
	{kind: kindReconnect, target: onShard},
	{kind: kindInvalidResume, target: onShard},
	{kind: kindInvalidFresh, target: onShard, endsSession: true},
	{kind: kindClose4000, target: onShard, code: 4000},
	{kind: kindClose4001, target: onShard, code: 4001},
	{kind: kindClose4002, target: onShard, code: 4002},
	{kind: kindClose4005, target: onShard, code: 4005},
	{kind: kindClose4008, target: onShard, code: 4008},
	{kind: kindClose1006, target: onShard, code: 1006},
	{kind: kindClose1011, target: onShard, code: 1011},
	{kind: kindClose4003, target: onShard, code: 4003, endsSession: true},
	{kind: kindClose4007, target: onShard, code: 4007, endsSession: true},
	{kind: kindClose4009, target: onShard, code: 4009, endsSession: true},
	{kind: kindDrop, target: onShard},
	{kind: kindZombie, target: onShard},
	{kind: kindMalformed, target: onShard},
	{kind: kindDMGuild, target: onShard},
	{kind: kindLatencyOn, target: onBot},
	{kind: kindLatencyOff, target: onBot},
	{kind: kindListenerPanic, target: onCluster, panics: true},
	{kind: kindLaunchPanic, target: onCluster, panics: true},
	{kind: kindSlowHandler, target: onCluster},
	{kind: kindMaintenance, target: onCluster},
	{kind: kindEvalPanic, target: onCluster, panics: true},
	{kind: kindEvalFuncPanic, target: onCluster, panics: true},
	{kind: kindCommandPanic, target: onCluster, panics: true},
	{kind: kindRestartFull, target: onCluster, endsSession: true},
	{kind: kindRestartResume, target: onCluster},
	{kind: kindRestartWorker, target: onCluster},
	{kind: kindRollingFull, target: onBot, endsSession: true},
	{kind: kindRollingResume, target: onBot},
	{kind: kindRollingWorker, target: onBot},
	{kind: kindServiceError, target: onBot, panics: true},
	{kind: kindServicePanic, target: onBot, panics: true},
}

// info returns the description of k; ok is false for an unknown kind.
func info(k kind) (kindInfo, bool) {
	i := slices.IndexFunc(kinds, func(ki kindInfo) bool { return ki.kind == k })
	if i < 0 {
		return kindInfo{}, false
	}
	return kinds[i], true
}

// kindNames lists every kind, comma-separated.
func kindNames() string {
	names := make([]string, len(kinds))
	for i, ki := range kinds {
		names[i] = string(ki.kind)
	}
	return strings.Join(names, ",")
}

// parseKinds reads a comma-separated list of kinds ("" or "all": every
// kind).
func parseKinds(s string) ([]kind, error) {
	if s == "" || s == "all" {
		out := make([]kind, len(kinds))
		for i, ki := range kinds {
			out[i] = ki.kind
		}
		return out, nil
	}
	var out []kind
	for name := range strings.SplitSeq(s, ",") {
		k := kind(strings.TrimSpace(name))
		if _, ok := info(k); !ok {
			return nil, fmt.Errorf("soak: unknown fault kind %q", k)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// fault is one planned fault.
type fault struct {
	N       int           // index in the plan
	At      time.Duration // when, from the start of injection
	Kind    kind
	Shard   int           // for shard faults
	Cluster int           // for cluster faults
	Param   time.Duration // latency_on: the max latency; slow_handler and maintenance: how long
}

// String names the fault for logs.
func (f fault) String() string {
	ki, _ := info(f.Kind)
	s := fmt.Sprintf("#%d %s at %v", f.N, f.Kind, f.At.Round(time.Millisecond))
	switch ki.target {
	case onShard:
		s += fmt.Sprintf(" shard %d", f.Shard)
	case onCluster:
		s += fmt.Sprintf(" cluster %d", f.Cluster)
	}
	if f.Param > 0 {
		s += " " + f.Param.String()
	}
	return s
}

// planSpec is what a plan depends on.
type planSpec struct {
	seed       uint64
	duration   time.Duration // faults are planned in [0, duration)
	every      time.Duration // mean interval between two faults
	shards     int
	clusters   int
	kinds      []kind
	latencyMax time.Duration // latency_on draws its max in [latencyMax/10, latencyMax]
	slowMax    time.Duration // slow_handler and maintenance draw their durations in [slowMax/10, slowMax]
}

// plan returns the seeded fault schedule: the same spec gives the same
// faults. Intervals are exponential with mean every; kinds come in rounds,
// each a shuffle of spec.kinds, so every kind appears once per round.
func plan(spec planSpec) []fault {
	rng := rand.New(rand.NewPCG(spec.seed, spec.seed^0x5eed50a4))
	if spec.every <= 0 || len(spec.kinds) == 0 {
		return nil
	}
	var out []fault
	var round []kind
	at := time.Duration(0)
	for {
		at += time.Duration(rng.ExpFloat64() * float64(spec.every))
		if at >= spec.duration {
			return out
		}
		if len(round) == 0 {
			round = slices.Clone(spec.kinds)
			rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		}
		f := fault{N: len(out), At: at, Kind: round[0], Shard: -1, Cluster: -1}
		round = round[1:]
		ki, _ := info(f.Kind)
		switch ki.target {
		case onShard:
			f.Shard = rng.IntN(spec.shards)
		case onCluster:
			f.Cluster = rng.IntN(spec.clusters)
		}
		switch f.Kind {
		case kindLatencyOn:
			f.Param = between(rng, spec.latencyMax/10, spec.latencyMax)
		case kindSlowHandler, kindMaintenance:
			f.Param = between(rng, spec.slowMax/10, spec.slowMax)
		}
		out = append(out, f)
	}
}

// between draws a duration uniformly in [lo, hi] (lo when hi <= lo).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}
