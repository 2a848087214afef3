package megane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/stats"
	"github.com/megane-go/megane/status"
)

// statusReportTTL is how long a status report's cluster figures are
// reused: however many pages and probes poll, the clusters are asked at
// most once in that time.
const statusReportTTL = time.Second

// statusTimeout bounds how long a report waits for the clusters' and
// services' figures.
const statusTimeout = time.Second

// statusState is what the status surface reads from the Manager: the
// event ring, the identify queue of the running Run, and the last
// cluster figures.
type statusState struct {
	events eventRing
	inRun  atomic.Bool                      // Run is between its start and its end
	queue  atomic.Pointer[shard.LocalQueue] // Run's identify queue; nil outside Run

	mu       sync.Mutex // guards the cached figures; held while they are collected
	at       time.Time
	clusters []stats.ClusterStats
	services []stats.ServiceStats
}

// statusConfig is the configuration of WithStatusAddr.
type statusConfig struct {
	addr string
	opts []status.Option
}

// WithStatusAddr serves the status surface (see package status: probes,
// /status.json, the status page and the guarded actions) on addr while
// Run runs, with opts (status.WithToken to enable actions). An address
// without a host (":8080") binds 127.0.0.1; a host that is not loopback
// makes Run fail with status.ErrNotLoopback unless opts hold
// status.WithRemoteAccess. Run opens the listener before anything else
// and returns its error if it cannot; it shuts the server down when it
// returns. The Manager's logger logs the actions.
func WithStatusAddr(addr string, opts ...status.Option) Option {
	return func(c *config) { c.status = &statusConfig{addr: addr, opts: opts} }
}

// StatusHandler returns the status surface over m for a mux of your own
// (see package status). It logs actions to the Manager's logger unless
// opts say otherwise. It may be made before Run; outside Run it reports
// not running (/healthz and /readyz answer 503).
func (m *Manager) StatusHandler(opts ...status.Option) http.Handler {
	return status.Handler(statusSource{m}, append([]status.Option{status.WithLogger(m.log)}, opts...)...)
}

// statusSource is the Manager as a status.Source. Its methods are not the
// Manager's own so that the Manager's API does not grow by the status
// surface's needs (and its RollingRestart takes options, which Source's
// does not).
type statusSource struct{ m *Manager }

var _ status.Source = statusSource{}

// Health is nil while Run runs and the goroutine that owns its clusters
// answers before ctx ends (also while Run is still starting, before the
// clusters are planned); ErrNotRunning outside Run; ctx's error when the
// owner is stuck.
func (s statusSource) Health(ctx context.Context) error {
	m := s.m
	if !m.st.inRun.Load() {
		return ErrNotRunning
	}
	if f := m.fleet.Load(); f != nil {
		return f.Ping(ctx)
	}
	return nil
}

// StatusReport is the clusters (with their shards), the services, the
// identify queue and the last 100 lifecycle events. The figures of the
// clusters and services are collected at most once a second (a pass over
// each cluster's cache, as for Stats, but without making a snapshot or an
// event) and shared by the callers of that second; the rest is read live.
func (s statusSource) StatusReport(ctx context.Context) status.Report {
	m := s.m
	r := status.Report{Time: time.Now(), Running: m.view().Running, Queue: m.queueStatus(), Events: m.st.events.list()}
	r.Clusters, r.Services = m.statusFigures(ctx)
	return r
}

// Restart is the Manager's Restart.
func (s statusSource) Restart(ctx context.Context, clusterID int, kind cluster.RestartKind) error {
	return s.m.Restart(ctx, clusterID, kind)
}

// RollingRestart is the Manager's RollingRestart without options.
func (s statusSource) RollingRestart(ctx context.Context, kind cluster.RestartKind) error {
	return s.m.RollingRestart(ctx, kind)
}

// StatusCode maps the Manager's errors: an unknown cluster is 404, a
// re-shard in progress 409, a Manager that is not running 503.
func (statusSource) StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrNoCluster):
		return http.StatusNotFound
	case errors.Is(err, ErrReshardInProgress):
		return http.StatusConflict
	case errors.Is(err, ErrNotRunning):
		return http.StatusServiceUnavailable
	}
	return 0
}

// statusFigures returns the cluster and service figures, collected anew
// when the cached ones are older than statusReportTTL.
func (m *Manager) statusFigures(ctx context.Context) ([]stats.ClusterStats, []stats.ServiceStats) {
	s := &m.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.at) >= statusReportTTL {
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		s.clusters, s.services, s.at = m.clusterStats(ctx), m.serviceStats(ctx), time.Now()
	}
	return s.clusters, s.services
}

// queueStatus is the identify queue's state while Run runs.
func (m *Manager) queueStatus() status.IdentifyQueue {
	q := m.st.queue.Load()
	if q == nil {
		return status.IdentifyQueue{Remaining: -1}
	}
	st := q.Status()
	return status.IdentifyQueue{Waiting: st.Waiting, NextSlot: st.NextSlot, Remaining: st.Remaining, ResetAt: st.ResetAt}
}

// serveStatus starts the WithStatusAddr server, if any, and returns the
// function that stops it (waiting for its goroutine). It marks the
// Manager as in Run for Health until that function is called.
func (m *Manager) serveStatus() (stop func(), err error) {
	m.st.inRun.Store(true)
	cfg := m.cfg.status
	if cfg == nil {
		return func() { m.st.inRun.Store(false) }, nil
	}
	ln, err := status.Listen(cfg.addr, cfg.opts...)
	if err != nil {
		m.st.inRun.Store(false)
		return nil, fmt.Errorf("megane: status server: %w", err)
	}
	srv := &http.Server{Handler: m.StatusHandler(cfg.opts...), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	m.log.Info("status page serving", slog.String("url", "http://"+ln.Addr().String()+"/"))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("status server failed", slog.String("err", err.Error()))
		}
	})
	return func() {
		m.st.inRun.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close() // an action still waiting: cut it
		}
		wg.Wait()
	}, nil
}
