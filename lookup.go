package megane

import (
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// ClusterInfo is a snapshot of one cluster. It is a plain value.
type ClusterInfo struct {
	ID        int
	ShardIDs  []int
	Status    supervisor.State
	Restarts  int
	Crashes   int
	LastError error
	// Maintenance: the cluster is in maintenance (Manager.SetMaintenance).
	Maintenance bool
}

// Clusters returns a snapshot of every cluster in ID order, or nil before
// Run has planned them.
func (m *Manager) Clusters() []ClusterInfo {
	cs, err := m.all()
	if err != nil {
		return nil
	}
	out := make([]ClusterInfo, len(cs))
	for i, c := range cs {
		out[i] = ClusterInfo{
			ID:          c.ID(),
			ShardIDs:    c.ShardIDs(),
			Status:      c.Status(),
			Restarts:    c.Restarts(),
			Crashes:     c.Crashes(),
			LastError:   c.LastError(),
			Maintenance: c.Maintenance(),
		}
	}
	return out
}

// Cluster returns the running cluster with the given ID, or a
// *NoClusterError.
func (m *Manager) Cluster(id int) (*cluster.Cluster, error) {
	c, err := m.cluster(id)
	if err != nil {
		return nil, err
	}
	return c.Handle(), nil
}

// ShardCount returns the planned shard count, or 0 before Run planned it.
func (m *Manager) ShardCount() int {
	return m.view().Plan.Count
}

// ShardOf returns the shard that owns a guild, and false before Run
// planned the shards.
func (m *Manager) ShardOf(guildID snowflake.ID) (int, bool) {
	plan := m.view().Plan
	if plan.Count < 1 {
		return 0, false
	}
	return shard.ShardOf(guildID, plan.Count), true
}

// ClusterOf returns the cluster that owns a guild (through its shard), and
// false before Run planned the shards or when this process does not run
// that shard.
func (m *Manager) ClusterOf(guildID snowflake.ID) (int, bool) {
	plan := m.view().Plan
	if plan.Count < 1 {
		return 0, false
	}
	return plan.ClusterOf(shard.ShardOf(guildID, plan.Count))
}
