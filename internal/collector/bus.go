package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/bus"
)

// The bus's metric names (see package stats' doc).
const (
	metricBusDepth    = "megane_bus_mailbox_depth"
	metricBusCapacity = "megane_bus_mailbox_capacity"
	metricBusDropped  = "megane_bus_dropped_total"
)

var (
	busLabels    = []string{"kind", "target"}
	busDepthDesc = prometheus.NewDesc(metricBusDepth,
		"Messages waiting in the target's mailbox.", busLabels, nil)
	busCapacityDesc = prometheus.NewDesc(metricBusCapacity,
		"Messages the target's mailbox holds.", busLabels, nil)
	busDroppedDesc = prometheus.NewDesc(metricBusDropped,
		"Messages the bus did not deliver to the target, by reason: full (the mailbox was full), "+
			"stopped (the target was detached), skipped (the requester had gone).",
		append(busLabels, "reason"), nil)
)

// busCollector exports a bus's mailboxes.
type busCollector struct {
	b     *bus.Bus
	floor counterFloor
}

// Bus returns a prometheus.Collector of b's mailboxes, read at scrape time
// from [bus.Bus.Stats]: per target (kind "manager", "cluster" or
// "service", and target, its address such as "cluster/0"), the depth and
// the capacity of its mailbox, and megane_bus_dropped_total by reason.
// Like [Prometheus], its counters never go down (a forgotten address that
// comes back goes on from its last value).
func Bus(b *bus.Bus) prometheus.Collector { return &busCollector{b: b} }

// Describe implements prometheus.Collector.
func (c *busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- busDepthDesc
	ch <- busCapacityDesc
	ch <- busDroppedDesc
}

// Collect implements prometheus.Collector.
func (c *busCollector) Collect(ch chan<- prometheus.Metric) {
	for addr, s := range c.b.Stats() {
		target := validLabel(addr.String())
		kind, _, _ := strings.Cut(target, "/")
		ch <- constMetric(busDepthDesc, prometheus.GaugeValue, float64(s.Pending), []string{kind, target})
		ch <- constMetric(busCapacityDesc, prometheus.GaugeValue, float64(s.Capacity), []string{kind, target})
		for _, r := range []struct {
			reason string
			n      uint64
		}{{"full", s.Full}, {"stopped", s.Stopped}, {"skipped", s.Skipped}} {
			labels := []string{kind, target, r.reason}
			ch <- constMetric(busDroppedDesc, prometheus.CounterValue, c.floor.value(busDroppedDesc, r.n, labels), labels)
		}
	}
}
