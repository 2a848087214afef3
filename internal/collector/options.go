package collector

import (
	"context"
	"log/slog"
	"time"

	"github.com/megane-go/megane/stats"
)

// ClusterSource reports the clusters that exist right now. The megane Manager
// implements it.
//
// ClusterStats is called once per collection (never concurrently with itself
// by collections) and once per Prometheus scrape (see [Collector.Read]),
// which may overlap a collection, so it must be safe for concurrent use.
// It must respect ctx (the collection's deadline) and
// return what it has when ctx ends: a cluster that cannot answer should still
// be reported, with its State and LastError. The returned slice and its
// Custom maps are owned by the Collector afterwards: the source must not
// modify them later.
type ClusterSource interface {
	ClusterStats(ctx context.Context) []stats.ClusterStats
}

// ClusterSourceFunc adapts a function to a ClusterSource.
type ClusterSourceFunc func(ctx context.Context) []stats.ClusterStats

// ClusterStats calls f(ctx).
func (f ClusterSourceFunc) ClusterStats(ctx context.Context) []stats.ClusterStats { return f(ctx) }

// ServiceSource reports the services that exist right now. It follows the
// same rules as ClusterSource.
type ServiceSource interface {
	ServiceStats(ctx context.Context) []stats.ServiceStats
}

// ServiceSourceFunc adapts a function to a ServiceSource.
type ServiceSourceFunc func(ctx context.Context) []stats.ServiceStats

// ServiceStats calls f(ctx).
func (f ServiceSourceFunc) ServiceStats(ctx context.Context) []stats.ServiceStats { return f(ctx) }

// Option configures a Collector.
type Option func(*config)

// Defaults used by New.
const (
	// DefaultInterval is how often Run collects unless WithInterval says
	// otherwise.
	DefaultInterval = 10 * time.Second
)

type config struct {
	clusters []ClusterSource
	services []ServiceSource
	interval time.Duration
	timeout  time.Duration
	onUpdate []func(stats.Snapshot)
	logger   *slog.Logger
	start    time.Time
	readCPU  func() cpuTimes
}

func defaultConfig() config {
	return config{
		interval: DefaultInterval,
		logger:   slog.Default(),
		readCPU:  readCPU,
	}
}

// WithClusters adds a source of cluster figures. It may be given more than
// once; the clusters of all sources are merged (a duplicate ID keeps the
// first one and logs a warning). A nil source is ignored.
func WithClusters(src ClusterSource) Option {
	return func(c *config) {
		if src != nil {
			c.clusters = append(c.clusters, src)
		}
	}
}

// WithServices adds a source of service figures, merged like WithClusters
// (by Name).
func WithServices(src ServiceSource) Option {
	return func(c *config) {
		if src != nil {
			c.services = append(c.services, src)
		}
	}
}

// WithInterval sets how often Run collects (default DefaultInterval).
// Values <= 0 are ignored.
func WithInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.interval = d
		}
	}
}

// WithCollectTimeout bounds each collection that Run starts (the deadline
// passed to the sources). The default is the interval. Values <= 0 are
// ignored.
func WithCollectTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithOnUpdate adds a hook called with every new snapshot (the
// statsUpdated event). Hooks run in order, on the goroutine that collected,
// one snapshot at a time and in Seq order. A hook must return quickly and
// must not call Collect (it would wait for itself until its context ends);
// a panicking hook is recovered and logged.
func WithOnUpdate(fn func(stats.Snapshot)) Option {
	return func(c *config) {
		if fn != nil {
			c.onUpdate = append(c.onUpdate, fn)
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// withStartTime sets the time that ManagerStats.Uptime counts from (default:
// when New was called). Only the package's tests use it.
func withStartTime(t time.Time) Option {
	return func(c *config) { c.start = t }
}
