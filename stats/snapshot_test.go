package stats

import "testing"

// TestSnapshotLookups: Cluster and Service find what a sorted snapshot
// holds, and report absence (also on the zero Snapshot).
func TestSnapshotLookups(t *testing.T) {
	t.Parallel()
	snap := Snapshot{
		Clusters: []ClusterStats{{ID: 0, Guilds: 10}, {ID: 2, Guilds: 20}, {ID: 5, Guilds: 50}},
		Services: []ServiceStats{{Name: "metrics", Restarts: 1}, {Name: "twitch", Restarts: 2}},
	}
	clusters := []struct {
		id     int
		guilds int
		ok     bool
	}{{0, 10, true}, {2, 20, true}, {5, 50, true}, {1, 0, false}, {6, 0, false}, {-1, 0, false}}
	for _, tc := range clusters {
		c, ok := snap.Cluster(tc.id)
		if ok != tc.ok || c.Guilds != tc.guilds || (ok && c.ID != tc.id) {
			t.Errorf("Cluster(%d) = %+v, %v; want %d guilds, %v", tc.id, c, ok, tc.guilds, tc.ok)
		}
	}
	services := []struct {
		name     string
		restarts int
		ok       bool
	}{{"metrics", 1, true}, {"twitch", 2, true}, {"", 0, false}, {"nats", 0, false}, {"zzz", 0, false}}
	for _, tc := range services {
		s, ok := snap.Service(tc.name)
		if ok != tc.ok || s.Restarts != tc.restarts || (ok && s.Name != tc.name) {
			t.Errorf("Service(%q) = %+v, %v; want %d restarts, %v", tc.name, s, ok, tc.restarts, tc.ok)
		}
	}
	var zero Snapshot
	if _, ok := zero.Cluster(0); ok {
		t.Error("the zero Snapshot has cluster 0")
	}
	if _, ok := zero.Service("x"); ok {
		t.Error("the zero Snapshot has a service")
	}
}
