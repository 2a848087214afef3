package cluster

import "strconv"

// Status is where a cluster is in its life.
type Status int

// The statuses of a [Cluster]. The zero value is StatusIdle.
const (
	StatusIdle       Status = iota // Serve not called yet
	StatusStarting                 // an attempt is connecting
	StatusReady                    // every shard is ready
	StatusReloading                // a worker-only reload runs
	StatusRestarting               // a full or resume restart runs
	StatusBackoff                  // crashed; waiting to restart
	StatusStopping                 // shutting down
	StatusStopped                  // Serve returned nil
	StatusFailed                   // Serve returned an error
)

var statusNames = [...]string{"idle", "starting", "ready", "reloading", "restarting", "backoff", "stopping", "stopped", "failed"}

// String returns the lower-case name of the status.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}
