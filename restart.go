package megane

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/engine"
)

// NoClusterError is returned for a cluster ID the Manager does not run. It
// matches ErrNoCluster with errors.Is.
type NoClusterError struct {
	ID int
}

// Error implements error.
func (e *NoClusterError) Error() string { return fmt.Sprintf("megane: no cluster %d", e.ID) }

// Unwrap returns ErrNoCluster.
func (e *NoClusterError) Unwrap() error { return ErrNoCluster }

// cluster returns cluster id of the running Manager.
func (m *Manager) cluster(id int) (*engine.Cluster, error) {
	v := m.view()
	if !v.Running {
		return nil, ErrNotRunning
	}
	if id < 0 || id >= len(v.Clusters) {
		return nil, &NoClusterError{ID: id}
	}
	return v.Clusters[id], nil
}

// all returns the clusters of the running Manager.
func (m *Manager) all() ([]*engine.Cluster, error) {
	v := m.view()
	if !v.Running {
		return nil, ErrNotRunning
	}
	return v.Clusters, nil
}

// resharding reports whether a re-shard runs.
func (m *Manager) resharding() bool { return m.view().Resharding }

// Restart restarts one cluster with the given kind and returns once it is
// ready again (or ctx ends). The other clusters keep serving. It returns a
// *NoClusterError (errors.Is ErrNoCluster) for an unknown ID and
// ErrNotRunning before Run has planned the clusters, and
// ErrReshardInProgress while a re-shard runs (see Reshard). It implements
// engine.Restarter, so a worker can restart another cluster through its
// Cluster; it must not be called from the cluster's own listeners (that
// would wait for itself: use Cluster.RestartCluster there).
func (m *Manager) Restart(ctx context.Context, clusterID int, kind cluster.RestartKind) error {
	if m.resharding() {
		return ErrReshardInProgress
	}
	c, err := m.cluster(clusterID)
	if err != nil {
		return err
	}
	return c.RestartAndWait(ctx, kind)
}

// RestartAll restarts every cluster at once with the given kind and
// returns when all are ready again. The errors of the clusters that failed
// are joined. It fails with ErrReshardInProgress while a re-shard runs.
func (m *Manager) RestartAll(ctx context.Context, kind cluster.RestartKind) error {
	if m.resharding() {
		return ErrReshardInProgress
	}
	cs, err := m.all()
	if err != nil {
		return err
	}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.RestartAndWait(ctx, kind); err != nil {
				errs[i] = fmt.Errorf("megane: restart cluster %d: %w", c.ID(), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

var _ engine.Restarter = (*Manager)(nil)
