package collector_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/megane-go/megane/internal/collector"
	"github.com/megane-go/megane/stats"
)

// clusters stands in for the megane Manager, which reports its clusters.
func clusters(context.Context) []stats.ClusterStats {
	return []stats.ClusterStats{
		{ID: 0, State: "ready", Ready: true, Guilds: 12, Users: 340,
			Custom: map[string]any{"songs_playing": 3},
			Shards: []stats.ShardStats{{ID: 0, Status: "ready", Ready: true, Events: 1200, Latency: 42 * time.Millisecond}}},
		{ID: 1, State: "restarting", Guilds: 0,
			Shards: []stats.ShardStats{{ID: 1, Status: "connecting"}}},
	}
}

func services(context.Context) []stats.ServiceStats {
	return []stats.ServiceStats{{Name: "twitch", State: "running", Ready: true}}
}

func ExampleCollector() {
	c := collector.New(
		collector.WithClusters(collector.ClusterSourceFunc(clusters)),
		collector.WithServices(collector.ServiceSourceFunc(services)),
		collector.WithOnUpdate(func(s stats.Snapshot) { fmt.Println("statsUpdated", s.Seq) }),
	)
	snap, err := c.Collect(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	t := snap.Totals
	fmt.Printf("clusters %d/%d ready, shards %d/%d ready, guilds %d, services %d\n",
		t.ClustersReady, t.Clusters, t.ShardsReady, t.Shards, t.Guilds, t.Services)
	c0, _ := snap.Cluster(0)
	fmt.Println("cluster 0 songs:", c0.Custom["songs_playing"])
	// Output:
	// statsUpdated 1
	// clusters 1/2 ready, shards 1/2 ready, guilds 12, services 1
	// cluster 0 songs: 3
}

func ExamplePrometheus() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := collector.New(
		collector.WithClusters(collector.ClusterSourceFunc(clusters)),
		collector.WithServices(collector.ServiceSourceFunc(services)),
		collector.WithInterval(10*time.Second),
	)
	if _, err := c.Collect(ctx); err != nil { // Run(ctx) does this every interval
		fmt.Println(err)
		return
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.Prometheus(c))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: time.Second}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close(); <-served }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, name := range []string{"megane_cluster_guilds{", "megane_custom{", "megane_shard_status{", "megane_service_up{"} {
			if strings.HasPrefix(line, name) {
				fmt.Println(line)
			}
		}
	}
	// Output:
	// megane_cluster_guilds{cluster="0"} 12
	// megane_cluster_guilds{cluster="1"} 0
	// megane_custom{cluster="0",key="songs_playing"} 3
	// megane_service_up{service="twitch"} 1
	// megane_shard_status{cluster="0",shard="0",status="ready"} 1
	// megane_shard_status{cluster="1",shard="1",status="connecting"} 1
}
