package cluster

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// EventKind says what an [Event] is about.
type EventKind int

// The lifecycle events of a cluster and of the whole process.
const (
	// EventSpawned: the cluster's first attempt started.
	EventSpawned EventKind = iota + 1
	// EventReady: every shard of the cluster is ready (READY plus all its
	// guilds, or RESUMED) and the worker is launched. Sent after every
	// start and restart.
	EventReady
	// EventAllReady: every cluster became ready for the first time (sent
	// by the Manager, once per run).
	EventAllReady
	// EventShardConnected: a shard's websocket opened and HELLO arrived.
	EventShardConnected
	// EventShardReady: a shard received READY (a new session).
	EventShardReady
	// EventShardResumed: a shard received RESUMED (the session continues).
	EventShardResumed
	// EventShardDisconnected: a shard's connection ended; Err says why.
	EventShardDisconnected
	// EventCrashed: an attempt of the cluster crashed; Err is the crash and
	// Panic is set when it was a panic (with its stack).
	EventCrashed
	// EventRestarted: a new attempt (or, for RestartWorker, a new worker)
	// started after a restart; Restart says which kind.
	EventRestarted
	// EventStalled: the watchdog saw no dispatch progress while events were
	// waiting, and restarts the cluster.
	EventStalled
	// EventError: an error that is not a crash (a failed Shutdown, a fatal
	// error of the Manager, ...).
	EventError
	// EventServiceState: a service (megane.WithService) changed state;
	// Service names it, State is the new state ("ready", "backoff", ...),
	// Err and Panic say why it crashed. Sent by the Manager.
	EventServiceState
	// EventStatsUpdated: the Manager collected a new stats snapshot
	// (every interval, and on demand); read it with the Manager's
	// LatestStats or the WithStatsHandler function.
	EventStatsUpdated
	// EventReshardStarted: the Manager began a re-shard; OldShards and
	// NewShards give the shard counts, Generation the new shard set's.
	EventReshardStarted
	// EventReshardCompleted: the new shard set is active and the old one
	// stopped (OldShards, NewShards, Generation as for the start).
	EventReshardCompleted
	// EventReshardFailed: the new shard set did not become ready and was
	// stopped; the old one keeps serving. Err says why.
	EventReshardFailed
	// EventMaintenance: the cluster entered maintenance (Maintenance
	// true) or left it (false); see the Manager's SetMaintenance.
	EventMaintenance
)

var kindNames = [...]string{
	EventSpawned:           "cluster_spawned",
	EventReady:             "cluster_ready",
	EventAllReady:          "all_clusters_ready",
	EventShardConnected:    "shard_connected",
	EventShardReady:        "shard_ready",
	EventShardResumed:      "shard_resumed",
	EventShardDisconnected: "shard_disconnected",
	EventCrashed:           "cluster_crashed",
	EventRestarted:         "cluster_restarted",
	EventStalled:           "cluster_stalled",
	EventError:             "error",
	EventServiceState:      "service_state",
	EventStatsUpdated:      "stats_updated",
	EventReshardStarted:    "reshard_started",
	EventReshardCompleted:  "reshard_completed",
	EventReshardFailed:     "reshard_failed",
	EventMaintenance:       "cluster_maintenance",
}

// String returns the snake_case name of the kind, such as "cluster_ready".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is one lifecycle event. It is a plain value and may be copied and
// kept.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Cluster is the cluster's ID, or -1 for events about the whole
	// process (EventAllReady, EventServiceState, EventStatsUpdated, some
	// EventError).
	Cluster int
	// Shard is the shard's ID for shard events, or -1.
	Shard int
	// Restart is the restart kind for EventRestarted (and EventCrashed,
	// where it is the kind the supervisor will use: RestartResume); zero
	// otherwise.
	Restart RestartKind
	// Attempt is the cluster's 1-based attempt number, 0 if unknown.
	Attempt int
	// Err is the error, for EventShardDisconnected, EventCrashed,
	// EventStalled and EventError.
	Err error
	// Panic is set for EventCrashed (and EventServiceState) when the crash
	// was a panic.
	Panic *supervisor.PanicError
	// Service is the service's name, for EventServiceState.
	Service string
	// State is the service's new state, for EventServiceState.
	State string
	// At is when the event happened.
	At time.Time
	// Generation is the shard set the cluster belongs to: 0 for the set
	// Run started, then one more for each re-shard.
	// For the re-shard events it is the new set's.
	Generation int
	// Standby is true for the events of a cluster whose shard set is
	// starting beside the active one during a re-shard and whose worker is
	// not launched yet. An EventReady with Standby
	// means ready in standby; the cluster sends another, without Standby,
	// once it is activated.
	Standby bool
	// OldShards and NewShards are the shard counts before and after a
	// re-shard, for the EventReshard kinds; zero otherwise.
	OldShards, NewShards int
	// Maintenance is, for EventMaintenance, whether the cluster is now in
	// maintenance.
	Maintenance bool
}

// LogAttrs returns the event as slog attributes (never including the
// token, which no event holds).
func (e Event) LogAttrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("event", e.Kind.String()))
	if e.Cluster >= 0 {
		attrs = append(attrs, slog.Int("cluster", e.Cluster))
	}
	if e.Shard >= 0 {
		attrs = append(attrs, slog.Int("shard", e.Shard))
	}
	if e.Service != "" {
		attrs = append(attrs, slog.String("service", e.Service), slog.String("state", e.State))
	}
	if e.Restart != 0 {
		attrs = append(attrs, slog.String("restart", e.Restart.String()))
	}
	if e.Attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", e.Attempt))
	}
	if e.Generation > 0 {
		attrs = append(attrs, slog.Int("generation", e.Generation))
	}
	if e.Standby {
		attrs = append(attrs, slog.Bool("standby", true))
	}
	if e.Kind == EventMaintenance {
		attrs = append(attrs, slog.Bool("maintenance", e.Maintenance))
	}
	if e.OldShards > 0 || e.NewShards > 0 {
		attrs = append(attrs, slog.Int("old_shards", e.OldShards), slog.Int("new_shards", e.NewShards))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	if e.Panic != nil {
		attrs = append(attrs, slog.String("stack", string(e.Panic.Stack)))
	}
	return attrs
}
