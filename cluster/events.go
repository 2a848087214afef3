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
	// EventStartupProgress: a shard set is starting (Run's first set, or
	// a re-shard's new one, named by Generation); Progress says how far
	// along it is. Sent by the Manager every WithStartupProgress interval
	// until every shard of the set is ready, and once more when the start
	// ends if any was sent for the set: with Ready equal to Total, unless
	// a re-shard failed.
	EventStartupProgress
	// EventIdentifyBudgetLow: a new session left the identify queue with
	// fewer than a tenth of session_start_limit.total identifies
	// (Remaining says how many). Sent by the Manager once each time the
	// budget falls under that line: again only after it was refilled.
	EventIdentifyBudgetLow
	// EventRollingProgress: a rolling restart (the Manager's
	// RollingRestart or RollingRestartServices) finished one more of
	// Total clusters or services: Done of them are restarted and past
	// their gate. Cluster (or Service) names the one just done. A final
	// event, with Cluster -1 and no Service, ends every rolling restart:
	// Done == Total when it completed, otherwise Err says why it stopped.
	// Sent by the Manager.
	EventRollingProgress
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
	EventStartupProgress:   "startup_progress",
	EventIdentifyBudgetLow: "identify_budget_low",
	EventRollingProgress:   "rolling_progress",
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
	// EventError and EventRollingProgress).
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
	// EventStalled, EventError and the final EventRollingProgress of a
	// rolling restart that stopped early.
	Err error
	// Panic is set for EventCrashed (and EventServiceState) when the crash
	// was a panic.
	Panic *supervisor.PanicError
	// Service is the service's name, for EventServiceState (and the
	// EventRollingProgress of a service).
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
	// Progress holds the figures of an EventStartupProgress; zero
	// otherwise.
	Progress StartupProgress
	// Remaining is the identifies left in the session start budget, for
	// EventIdentifyBudgetLow; zero otherwise.
	Remaining int
	// Done and Total count, for EventRollingProgress, the clusters (or
	// services) a rolling restart has finished and the ones it restarts
	// in all; zero otherwise.
	Done, Total int
	// Maintenance is, for EventMaintenance, whether the cluster is now in
	// maintenance.
	Maintenance bool
}

// StartupProgress is how far a shard set's start is along, for an
// EventStartupProgress.
type StartupProgress struct {
	// Ready is how many shards of the set are ready (READY or RESUMED), of
	// Total.
	Ready, Total int
	// Waiting is the number of shards waiting in the identify queue (of
	// the whole process), or -1 when the queue does not report it.
	Waiting int
	// Remaining is the session starts left until the budget resets, or -1
	// when unknown or unlimited.
	Remaining int
	// ETA is how long the identify queue's schedule still needs to let
	// the last shard that is not ready identify: its buckets
	// (max_concurrency), one identify per window and margin in each, and
	// the wait for the budget's reset when the budget runs out. A shard
	// that identified and waits for READY counts as still to come, so it
	// errs on the long side by at most one window. -1 when unknown (the
	// queue does not report its state, or its budget can never cover the
	// rest).
	ETA time.Duration
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
		attrs = append(attrs, slog.String("service", e.Service))
		if e.Kind != EventRollingProgress {
			attrs = append(attrs, slog.String("state", e.State))
		}
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
	if e.Kind == EventStartupProgress {
		p := e.Progress
		attrs = append(attrs, slog.Int("ready", p.Ready), slog.Int("total", p.Total),
			slog.Int("waiting", p.Waiting), slog.Int("session_starts_remaining", p.Remaining),
			slog.Duration("eta", p.ETA.Round(100*time.Millisecond)))
	}
	if e.Kind == EventIdentifyBudgetLow {
		attrs = append(attrs, slog.Int("remaining", e.Remaining))
	}
	if e.Kind == EventRollingProgress {
		attrs = append(attrs, slog.Int("done", e.Done), slog.Int("total", e.Total))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	if e.Panic != nil {
		attrs = append(attrs, slog.String("stack", string(e.Panic.Stack)))
	}
	return attrs
}
