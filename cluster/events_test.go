package cluster_test

import (
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
)

// TestStartupProgressLogAttrs: a progress event logs its figures under
// its kind's name.
func TestStartupProgressLogAttrs(t *testing.T) {
	t.Parallel()
	e := cluster.Event{Kind: cluster.EventStartupProgress, Cluster: -1, Shard: -1, Generation: 1,
		Progress: cluster.StartupProgress{Ready: 5, Total: 64, Waiting: 59, Remaining: 990, ETA: 4*time.Minute + 20*time.Second}}
	got := map[string]string{}
	for _, a := range e.LogAttrs() {
		got[a.Key] = a.Value.String()
	}
	want := map[string]string{"event": "startup_progress", "generation": "1", "ready": "5", "total": "64",
		"waiting": "59", "session_starts_remaining": "990", "eta": "4m20s"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	for _, a := range (cluster.Event{Kind: cluster.EventReady, Cluster: 2, Shard: -1}).LogAttrs() {
		if a.Key == "ready" || a.Key == "eta" {
			t.Errorf("a cluster_ready event logs %v", a)
		}
	}
}
