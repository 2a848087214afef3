package megane

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/internal/collector"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// restTimeout is the whole-request timeout of the REST client's
// http.Client, disgo's default.
const restTimeout = 20 * time.Second

// restHTTPClient is the http.Client of the Manager's REST client: disgo's
// default, with a transport that times each request in
// megane_rest_request_duration_seconds.
func (m *Manager) restHTTPClient() *http.Client {
	return &http.Client{Timeout: restTimeout, Transport: collector.Transport(nil, m.hist.REST)}
}

// handlerObserver is the option that times cluster id's listeners in
// megane_handler_duration_seconds{cluster=id}. The series is resolved here,
// once per cluster, so that the executor pays no label lookup per event.
func (m *Manager) handlerObserver(id int) engine.Option {
	return engine.WithHandlerObserver(m.hist.Handler.WithLabelValues(strconv.Itoa(id)))
}

// timedQueue is the identify queue as the shards see it: each Wait that
// grants a slot is timed in megane_identify_wait_seconds. Everything else
// is the queue's own.
type timedQueue struct {
	shard.Queue
	h prometheus.Observer
}

var _ shard.Queue = timedQueue{}

// Wait implements shard.Queue.
func (q timedQueue) Wait(ctx context.Context, shardID int) error {
	start := time.Now()
	err := q.Queue.Wait(ctx, shardID)
	if err == nil {
		q.h.Observe(time.Since(start).Seconds())
	}
	return err
}
