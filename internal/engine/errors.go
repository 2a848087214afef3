package engine

import "errors"

// Errors of the engine's own machinery, which a worker never sees.
var (
	// ErrNotServing is returned by restarts before Serve was called.
	ErrNotServing = errors.New("cluster: not serving")
	// ErrNoRestarter is returned by Cluster.RestartCluster for another cluster's
	// ID when no Restarter was configured.
	ErrNoRestarter = errors.New("cluster: no restarter configured")
	// ErrNoWorker is returned by Serve when New got a nil worker factory.
	ErrNoWorker = errors.New("cluster: no worker factory")
	// ErrAlreadyServed is returned by Serve when it was called before.
	ErrAlreadyServed = errors.New("cluster: already served")
	// ErrStandby is returned by restarts of a cluster in standby (see
	// WithStandby): it has no worker yet, and the Manager owns it.
	ErrStandby = errors.New("cluster: in standby")
)
