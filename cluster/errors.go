package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by this package. Match them with [errors.Is].
var (
	// ErrInvalidRestartKind is returned for a RestartKind that is not
	// RestartFull, RestartResume or RestartWorker.
	ErrInvalidRestartKind = errors.New("cluster: invalid restart kind")
	// ErrStopped is returned by restarts and waits when the cluster has
	// stopped (its Serve returned) or stops meanwhile.
	ErrStopped = errors.New("cluster: stopped")
	// ErrRestartPending is returned by Cluster.RestartCluster of its own cluster
	// when earlier restart requests have not been taken yet.
	ErrRestartPending = errors.New("cluster: restart already pending")
	// ErrStalled is the crash recorded when the watchdog restarts a
	// cluster; the error is a *StalledError.
	ErrStalled = errors.New("cluster: dispatch stalled")
	// ErrBadToken is the fatal error when the disgo client rejects the
	// token's format (it must start with the base64 application ID).
	ErrBadToken = errors.New("cluster: malformed bot token")
	// ErrLaunchTimeout is the crash recorded when a worker's Launch did
	// not return within the ready timeout (WithReadyTimeout). Like any
	// crash it is restarted with backoff; a Launch that ignores its
	// context keeps its goroutine until it returns.
	ErrLaunchTimeout = errors.New("cluster: worker Launch did not return within the ready timeout")
	// ErrMaintenance is the reply to a bus message for the worker of a
	// cluster in maintenance: the message did not reach the worker. It
	// matches across bus.Request and bus.Broadcast; Megane's reserved
	// topics (stats, fetches) are answered as usual.
	ErrMaintenance = errors.New("cluster: in maintenance")
)

// StalledError is the crash recorded when the watchdog saw no dispatch
// progress for Timeout while Waiting events were queued. It unwraps to
// ErrStalled.
type StalledError struct {
	Cluster int
	Timeout time.Duration
	Waiting int
}

// Error implements error.
func (e *StalledError) Error() string {
	return fmt.Sprintf("cluster: cluster %d made no dispatch progress for %s with %d events waiting", e.Cluster, e.Timeout, e.Waiting)
}

// Unwrap returns ErrStalled.
func (e *StalledError) Unwrap() error { return ErrStalled }

// ShardError is an error of one shard of a cluster, such as a fatal close
// code. It unwraps to the shard's error, so errors.Is(err,
// shard.ErrInvalidToken) holds.
type ShardError struct {
	Cluster int
	Shard   int
	Err     error
}

// Error implements error.
func (e *ShardError) Error() string {
	return fmt.Sprintf("cluster %d: shard %d: %v", e.Cluster, e.Shard, e.Err)
}

// Unwrap returns the shard's error.
func (e *ShardError) Unwrap() error { return e.Err }
