package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
)

// summary is the bot's final report, printed as one JSON line with -json.
// The keys are stable; scripts and the tests read them.
type summary struct {
	Mode             string           `json:"mode"`
	Clusters         int              `json:"clusters"`
	ClustersReady    int              `json:"clusters_ready"`
	Shards           int              `json:"shards"`
	ShardsReady      int              `json:"shards_ready"`
	Guilds           int              `json:"guilds"`
	EventsReceived   uint64           `json:"events_received"`
	Messages         uint64           `json:"messages"`
	Pings            uint64           `json:"pings"`
	PingCooldowns    uint64           `json:"ping_cooldowns"`
	Pongs            uint64           `json:"pongs"`
	PingReplyErrors  uint64           `json:"ping_reply_errors"`
	PingReplyDropped uint64           `json:"ping_reply_dropped"`
	StatsCommands    uint64           `json:"stats_commands"`
	StatsReplies     uint64           `json:"stats_replies"`
	ServiceErrors    uint64           `json:"service_errors"`
	Services         int              `json:"services"`
	ServicesReady    int              `json:"services_ready"`
	ServicePings     int64            `json:"service_pings"` // the ping counter service's total; -1 if it did not answer
	Restarts         int              `json:"restarts"`
	Crashes          int              `json:"crashes"`
	StartupSeconds   float64          `json:"startup_seconds"` // from start to all clusters ready; 0 if never
	UptimeSeconds    float64          `json:"uptime_seconds"`
	EventsPerSecond  float64          `json:"events_per_second"` // since all clusters were ready
	PerCluster       []clusterSummary `json:"per_cluster"`
}

// clusterSummary is one cluster's line of the summary.
type clusterSummary struct {
	ID       int    `json:"id"`
	Shards   []int  `json:"shards"`
	Status   string `json:"status"`
	Ready    bool   `json:"ready"`
	Guilds   int    `json:"guilds"`
	Events   uint64 `json:"events"`
	Messages uint64 `json:"messages"`
	Restarts int    `json:"restarts"`
	Crashes  int    `json:"crashes"`
}

// collector gathers a summary from the Manager, the counters and the
// tracker. collect is safe to call from any goroutine but the Manager's event
// handler.
type collector struct {
	mode    string
	m       *megane.Manager
	cnt     *counters
	tr      *tracker
	started time.Time
}

func (c *collector) collect() summary {
	now := time.Now()
	totals, per := c.cnt.sum()
	s := summary{
		Mode:             c.mode,
		Shards:           c.m.ShardCount(),
		ShardsReady:      c.shardsReady(),
		EventsReceived:   totals.events,
		Messages:         totals.messages,
		Pings:            totals.pings,
		PingCooldowns:    totals.cooldowns,
		Pongs:            totals.pongs,
		PingReplyErrors:  totals.replyErrors,
		PingReplyDropped: totals.replyDropped,
		StatsCommands:    totals.statsCommands,
		StatsReplies:     totals.statsReplies,
		ServiceErrors:    totals.serviceErrors,
		ServicePings:     c.servicePings(),
		UptimeSeconds:    round1(now.Sub(c.started).Seconds()),
		PerCluster:       []clusterSummary{},
	}
	if at, before := c.tr.readyAt(); !at.IsZero() {
		s.StartupSeconds = round1(at.Sub(c.started).Seconds())
		if up := now.Sub(at).Seconds(); up > 0 {
			s.EventsPerSecond = round1(float64(totals.events-before) / up)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, st := range c.m.Services(sctx) {
		s.Services++
		if st.Ready {
			s.ServicesReady++
		}
	}
	for _, info := range c.m.Clusters() {
		cs := clusterSummary{ID: info.ID, Shards: info.ShardIDs, Status: info.Status.String(),
			Restarts: info.Restarts, Crashes: info.Crashes}
		if cl, err := c.m.Cluster(info.ID); err == nil {
			// Ready is closed while the cluster serves.
			select {
			case <-cl.Ready():
				cs.Ready = true
				s.ClustersReady++
			default:
			}
			if client := cl.Client(); client != nil {
				cs.Guilds = client.Caches.GuildsLen()
			}
		}
		if cc, ok := per[info.ID]; ok {
			cs.Events, cs.Messages = cc.events, cc.messages
		}
		s.Clusters++
		s.Guilds += cs.Guilds
		s.Restarts += info.Restarts
		s.Crashes += info.Crashes
		s.PerCluster = append(s.PerCluster, cs)
	}
	return s
}

// shardsReady returns how many shards are connected and have received READY
// or RESUMED, from a fresh stats snapshot (it follows restarts and
// re-shards), or -1 if the collection did not finish within 2 s.
func (c *collector) shardsReady() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	snap, err := c.m.Stats(ctx)
	if err != nil {
		return -1
	}
	return snap.Totals.ShardsReady
}

// servicePings asks the ping counter service for its total over the bus, or
// returns -1 if it does not answer within a second.
func (c *collector) servicePings() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := bus.Request[int64](ctx, c.m.Bus(), bus.Manager(), bus.Service(pingService), cmdCount, nil)
	if err != nil {
		return -1
	}
	return n
}

// writeJSON writes s as one JSON line.
func (s summary) writeJSON(w io.Writer) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("example: encode summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
