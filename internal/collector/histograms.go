package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The histograms' names (see package stats' doc).
const (
	metricHandlerDuration = "megane_handler_duration_seconds"
	metricRESTDuration    = "megane_rest_request_duration_seconds"
	metricIdentifyWait    = "megane_identify_wait_seconds"
)

// Buckets of the histograms, in seconds.
var (
	// HandlerBuckets spans 10 µs to 2.6 s in steps of 4: a listener that
	// does nothing takes well under the first, one that calls Discord
	// (REST, without a rate-limit wait) lands around 40 to 160 ms.
	HandlerBuckets = prometheus.ExponentialBuckets(10e-6, 4, 10)
	// RESTBuckets are Prometheus's defaults, 5 ms to 10 s: a call to
	// Discord takes 50 to 500 ms; disgo gives up after 20 s.
	RESTBuckets = prometheus.DefBuckets
	// IdentifyBuckets spans 10 ms to 11 min in steps of 4: a shard that
	// finds its bucket free waits under the first; at max_concurrency 1
	// the 64th shard of a cold start waits about 5 min 20 s.
	IdentifyBuckets = prometheus.ExponentialBuckets(0.01, 4, 9)
)

// Histograms are the Manager's latency histograms. They are observed where
// the work happens (the executor, the REST transport, the identify queue)
// and collected at scrape time like any prometheus.Histogram. Create them
// with NewHistograms; a Histograms is safe for concurrent use.
type Histograms struct {
	// Handler is the time a cluster's listeners take per event, by
	// cluster. Resolve a cluster's Observer once (WithLabelValues), not
	// per event: the lookup takes a lock.
	Handler *prometheus.HistogramVec
	// REST is the time of one HTTP round trip to Discord's REST API, by
	// method and status class ("2xx" ... "5xx", or "error" when no answer
	// came).
	REST *prometheus.HistogramVec
	// Identify is the time from a shard asking the identify queue to its
	// being allowed to identify.
	Identify prometheus.Histogram
}

var _ prometheus.Collector = (*Histograms)(nil)

// NewHistograms returns empty histograms.
func NewHistograms() *Histograms {
	return &Histograms{
		Handler: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricHandlerDuration,
			Help:    "Time the worker's listeners take per event.",
			Buckets: HandlerBuckets,
		}, []string{"cluster"}),
		REST: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricRESTDuration,
			Help:    "Time of one HTTP request to Discord's REST API, by method and status class.",
			Buckets: RESTBuckets,
		}, []string{"method", "status"}),
		Identify: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    metricIdentifyWait,
			Help:    "Time from a shard asking the identify queue to getting its slot.",
			Buckets: IdentifyBuckets,
		}),
	}
}

// Describe implements prometheus.Collector.
func (h *Histograms) Describe(ch chan<- *prometheus.Desc) {
	h.Handler.Describe(ch)
	h.REST.Describe(ch)
	h.Identify.Describe(ch)
}

// Collect implements prometheus.Collector.
func (h *Histograms) Collect(ch chan<- prometheus.Metric) {
	h.Handler.Collect(ch)
	h.REST.Collect(ch)
	h.Identify.Collect(ch)
}
