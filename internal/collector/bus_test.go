package collector

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/megane-go/megane/bus"
)

// TestBusMetrics: a message refused by a full mailbox is counted in
// megane_bus_dropped_total{reason="full"}, and the depth is read at scrape
// time.
func TestBusMetrics(t *testing.T) {
	t.Parallel()
	b := bus.New(bus.WithMailboxSize(1))
	if _, err := b.Attach(bus.Cluster(2), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Send(ctx, bus.Manager(), bus.Cluster(2), "t", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx, bus.Manager(), bus.Cluster(2), "t", nil); !errors.Is(err, bus.ErrMailboxFull) {
		t.Fatalf("Send to a full mailbox = %v", err)
	}
	c := Bus(b)
	want := `
# HELP megane_bus_dropped_total Messages the bus did not deliver to the target, by reason: full (the mailbox was full), stopped (the target was detached), skipped (the requester had gone).
# TYPE megane_bus_dropped_total counter
megane_bus_dropped_total{kind="cluster",reason="full",target="cluster/2"} 1
megane_bus_dropped_total{kind="cluster",reason="skipped",target="cluster/2"} 0
megane_bus_dropped_total{kind="cluster",reason="stopped",target="cluster/2"} 0
# HELP megane_bus_mailbox_depth Messages waiting in the target's mailbox.
# TYPE megane_bus_mailbox_depth gauge
megane_bus_mailbox_depth{kind="cluster",target="cluster/2"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), metricBusDropped, metricBusDepth); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestTransport: a REST round trip is observed under its method and status
// class, and a failed one under "error"; never under its URL.
func TestTransport(t *testing.T) {
	t.Parallel()
	h := NewHistograms()
	rt := Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodDelete {
			return nil, errors.New("refused")
		}
		return &http.Response{StatusCode: http.StatusTooManyRequests, Body: http.NoBody}, nil
	}), h.REST)
	for _, m := range []string{http.MethodPost, http.MethodDelete, "BREW"} {
		req, err := http.NewRequest(m, "http://discord.test/api/v10/webhooks/1/secret-token", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := rt.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	if n := testutil.CollectAndCount(h.REST); n != 3 {
		t.Errorf("%d series, want 3", n)
	}
	for _, labels := range [][2]string{{"POST", "4xx"}, {"DELETE", "error"}, {"other", "4xx"}} {
		var pb dto.Metric
		if err := h.REST.WithLabelValues(labels[0], labels[1]).(prometheus.Metric).Write(&pb); err != nil {
			t.Fatal(err)
		}
		if n := pb.GetHistogram().GetSampleCount(); n != 1 {
			t.Errorf("%v: %d observations, want 1", labels, n)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
