package megane

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/stats"
	"github.com/megane-go/megane/store"
)

// topicManagerStats is the topic of a request to bus.Manager() for a
// fresh stats snapshot; see [RequestStats].
const topicManagerStats = "megane.manager.stats"

// Bus returns the Manager's message bus, shared by the Manager (address
// bus.Manager()), every cluster (bus.Cluster(id)) and every service
// (bus.Service(name)). It is never nil and exists from New on; a
// bus.GuildOwner address resolves once Run has planned the shards.
// Clusters answer while they are ready (bus.ErrTargetStopped while they
// restart), and are forgotten (bus.ErrNoTarget) when Run returns.
func (m *Manager) Bus() *bus.Bus { return m.bus }

// Store returns the central store shared by the clusters and services.
// It is made on first use (by Store, AddService or Run), which starts its
// janitor goroutine (after Close without any use, Store returns nil), and is closed when Run returns (buckets stay
// readable; opening new ones fails with store.ErrClosed). A Manager whose
// Store was used but that never runs must be closed with [Manager.Close].
// Values in the store are shared, not copied.
func (m *Manager) Store() *store.Store {
	st, _, _ := m.shared()
	return st
}

// resolveGuild is the bus's guild resolver: the cluster owning the guild's
// shard under the current plan.
func (m *Manager) resolveGuild(guildID uint64) (int, bool) {
	return m.ClusterOf(snowflake.ID(guildID))
}

// startShared starts the services, the stats collector and the Manager's
// own mailbox, each on a goroutine owned by Run; stop ends them and waits
// for them. They live on a context of their own so that they outlive the
// clusters during shutdown.
func (m *Manager) startShared(ctx context.Context) (stop func(), err error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	mux := &bus.Mux{}
	bus.Handle(mux, topicManagerStats, func(ctx context.Context, _ any) (stats.Snapshot, error) {
		// On demand means fresh: the latest periodic snapshot may predate
		// the clusters (the collector's first one is taken at start).
		return m.col.Collect(ctx)
	})
	mb, err := m.bus.Attach(bus.Manager(), mux)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("megane: bus: %w", err)
	}
	_, reg, err := m.shared()
	if err != nil {
		cancel()
		m.bus.Forget(bus.Manager())
		return nil, err
	}
	svcErr := reg.ServeBackground(sctx)
	colDone := make(chan struct{})
	go func() {
		defer close(colDone)
		if err := m.col.Run(sctx); err != nil {
			m.log.Error("stats collector", slog.String("err", err.Error()))
		}
	}()
	mbDone := make(chan struct{})
	go func() {
		defer close(mbDone)
		// The mailbox recovers a panicking handler itself: the requester
		// gets bus.ErrHandlerPanic and serving goes on.
		_ = mb.Serve(sctx)
	}()
	return func() {
		m.bus.Forget(bus.Manager())
		cancel()
		<-mbDone
		<-colDone
		if err := <-svcErr; err != nil {
			m.log.Error("services", slog.String("err", err.Error()))
		}
	}, nil
}

// RequestStats asks the Manager, through b, to collect a stats snapshot
// now (it costs one pass over every cluster's caches). It is how a service or
// a cluster's worker that holds only the bus reads the aggregated stats,
// for a "!stats" command for example. It fails with bus.ErrNoTarget when
// the Manager is not running.
func RequestStats(ctx context.Context, b *bus.Bus) (stats.Snapshot, error) {
	return bus.Request[stats.Snapshot](ctx, b, bus.Address{}, bus.Manager(), topicManagerStats, nil)
}
