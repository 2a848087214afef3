package status

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/stats"
)

// Source is what the handler reads and acts on. A *megane.Manager
// provides one through its StatusHandler and WithStatusAddr. Every method
// must be safe for concurrent use: the handler calls them from its request
// goroutines.
type Source interface {
	// StatusReport returns the current state, as fresh as ctx allows.
	StatusReport(ctx context.Context) Report
	// Health returns nil when the process's supervisors answer before ctx
	// ends.
	Health(ctx context.Context) error
	// Restart restarts one cluster with kind and returns once it is ready
	// again.
	Restart(ctx context.Context, clusterID int, kind cluster.RestartKind) error
	// RollingRestart restarts every cluster in turn with kind.
	RollingRestart(ctx context.Context, kind cluster.RestartKind) error
	// StatusCode returns the HTTP status of an error that Restart or
	// RollingRestart returned and that the source knows (such as 404 for
	// an unknown cluster), or 0 to let the handler decide from the cluster
	// package's errors and ctx's (otherwise 500).
	StatusCode(err error) int
}

// Report is the state /status.json and the page show. It is a plain
// value; its slices are the Report's own.
type Report struct {
	// Time is when the report was made.
	Time time.Time
	// Running reports whether the Manager's Run is serving clusters.
	Running bool
	// Clusters is sorted by ID; each holds its shards (status, latency,
	// events per second, resumes, ...) and its guild count.
	Clusters []stats.ClusterStats
	// Services is sorted by name.
	Services []stats.ServiceStats
	// Queue is the identify queue's state.
	Queue IdentifyQueue
	// Events holds the last lifecycle events (at most 100), oldest first.
	Events []cluster.Event
}

// IdentifyQueue is the identify queue's state in a [Report]. A figure the
// queue does not report is zero (Remaining: -1).
type IdentifyQueue struct {
	// Waiting is the number of shards waiting to identify.
	Waiting int `json:"waiting"`
	// NextSlot is the earliest time the next identify may go.
	NextSlot time.Time `json:"next_slot,omitzero"`
	// Remaining is the session starts left, or -1 when unknown or
	// unlimited.
	Remaining int `json:"remaining"`
	// ResetAt is when the session start budget is refilled.
	ResetAt time.Time `json:"reset_at,omitzero"`
}

// healthTimeout is how long /healthz waits for Source.Health.
const healthTimeout = 2 * time.Second

// config holds the options of a handler.
type config struct {
	token     string
	threshold float64
	gatherer  prometheus.Gatherer
	log       *slog.Logger
	remote    bool
}

func defaultConfig() config {
	return config{threshold: 1, log: slog.New(slog.DiscardHandler)}
}

// Option configures [Handler] (and [Listen]).
type Option func(*config)

// WithToken sets the admin token that actions need (sent as
// "Authorization: Bearer TOKEN"). Without it, or with "", every action
// is refused with 403.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithReadyThreshold makes /readyz answer 200 once at least share (0 <
// share <= 1) of the clusters are ready, instead of all of them. A share
// outside that range (or NaN) means 1.
func WithReadyThreshold(share float64) Option {
	return func(c *config) {
		if math.IsNaN(share) || share <= 0 || share > 1 {
			share = 1
		}
		c.threshold = share
	}
}

// WithMetrics serves g at /metrics in the Prometheus text format. For the
// Manager's figures, register its collector:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m.PrometheusCollector(),
//		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//	h := m.StatusHandler(status.WithMetrics(reg))
//
// Without it /metrics is not served (404).
func WithMetrics(g prometheus.Gatherer) Option { return func(c *config) { c.gatherer = g } }

// WithLogger sets where actions are logged (default: nowhere; the
// Manager's StatusHandler and WithStatusAddr pass its logger).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithRemoteAccess lets [Listen] bind a host that is not loopback. Use it
// only behind a firewall or a reverse proxy that adds TLS; the admin token
// travels in the clear otherwise.
func WithRemoteAccess() Option { return func(c *config) { c.remote = true } }

func newConfig(opts []Option) config {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// Handler returns the status surface over src (see the package doc for
// the endpoints). It is safe for concurrent use and holds no goroutine of
// its own. nil options are ignored.
func Handler(src Source, opts ...Option) http.Handler {
	h := &handler{src: src, cfg: newConfig(opts)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.HandleFunc("GET /status.json", h.report)
	mux.HandleFunc("POST /clusters/{id}/restart", h.restart)
	mux.HandleFunc("POST /rolling-restart", h.rollingRestart)
	// Maintenance (issue 14, part 4) mounts its POST routes here, behind
	// the same h.authorize, when its Source method exists.
	if h.cfg.gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(h.cfg.gatherer, promhttp.HandlerOpts{}))
	}
	mux.Handle("GET /", pageHandler())
	return mux
}

// handler serves one Handler's requests.
type handler struct {
	src Source
	cfg config
}

// healthz answers 200 when src's supervisors answer in time.
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := h.src.Health(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when enough clusters are ready.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	rep := h.src.StatusReport(r.Context())
	ready := 0
	for _, c := range rep.Clusters {
		if c.Ready {
			ready++
		}
	}
	total := len(rep.Clusters)
	body := map[string]any{"ready": ready, "clusters": total, "threshold": h.cfg.threshold}
	if !rep.Running || total == 0 || float64(ready) < h.cfg.threshold*float64(total) {
		body["status"] = "not ready"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	body["status"] = "ready"
	writeJSON(w, http.StatusOK, body)
}

// report serves /status.json.
func (h *handler) report(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toJSON(h.src.StatusReport(r.Context())))
}

// writeJSON writes v as JSON with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
