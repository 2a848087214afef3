package engine

import (
	"context"
	"log/slog"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// The engine speaks the public cluster package's vocabulary: a worker, its
// optional interfaces, events, statuses and restart kinds are declared there,
// once, for the people who write workers (the optional interfaces that
// services share, bus.StatsProvider and bus.AllClustersReadyHandler, are
// declared once in bus and named so here). These aliases keep the engine's
// code as short as it was when both lived in one package.
type (
	Worker         = cluster.Worker
	WorkerFunc     = cluster.WorkerFunc
	Shutdowner     = cluster.Shutdowner
	Event          = cluster.Event
	EventKind      = cluster.EventKind
	RestartKind    = cluster.RestartKind
	Stats          = cluster.Stats
	FetchRequest   = cluster.FetchRequest
	FetchedGuild   = cluster.FetchedGuild
	FetchedChannel = cluster.FetchedChannel
	NotFoundError  = cluster.NotFoundError
	StalledError   = cluster.StalledError
	ShardError     = cluster.ShardError
	PanicError     = supervisor.PanicError
)

// validKind reports whether k is one of the declared restart kinds.
func validKind(k RestartKind) bool { return k >= cluster.RestartFull && k <= cluster.RestartWorker }

// Restarter restarts a cluster by ID and returns once it is ready again.
// The megane Manager implements it; a [Cluster] reaches it through
// [WithRestarter] so that a worker can restart another cluster.
type Restarter interface {
	Restart(ctx context.Context, clusterID int, kind RestartKind) error
}

// level is the slog level the event is logged at.
func eventLevel(e Event) slog.Level {
	switch e.Kind {
	case cluster.EventCrashed, cluster.EventStalled, cluster.EventError:
		return slog.LevelError
	case cluster.EventShardDisconnected, cluster.EventReshardFailed:
		return slog.LevelWarn
	case cluster.EventShardConnected:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
