package cluster

import (
	"strconv"
)

// RestartKind says what a restart of a cluster keeps. The zero value is not
// a restart kind: [Cluster.RestartAndWait] rejects it with
// [ErrInvalidRestartKind], and in an [Event] it means "not about a restart".
type RestartKind int

const (
	// RestartFull ends everything and starts over. The shards are closed
	// with code 1000, which ends their Discord sessions; the disgo client
	// and its cache are discarded; a new worker and a new client are built
	// and every shard identifies again through the shared identify queue
	// (spending session starts). Events sent while the cluster was down are
	// not delivered. The cache is rebuilt from READY and GUILD_CREATE.
	RestartFull RestartKind = iota + 1

	// RestartResume keeps the Discord sessions and the cache. The shards are
	// closed with code 4000 (resumable), their resume state is saved, the
	// same cache.Caches is handed to the new client, and the new shards
	// resume (no identify is spent). Discord replays every event the old
	// worker had not been handed, so no event is lost; at most the event a
	// worker was handling when the restart began is not handed again.
	RestartResume

	// RestartWorker replaces only the worker. The shards stay connected and
	// the disgo client (with its cache) stays. Dispatch pauses while the old
	// worker's Shutdown and the new worker's Launch run (the shards' bounded
	// queues buffer, then push back on their read loops); then the new
	// worker gets every event that arrived meanwhile, in order. No
	// connection is made and no event is lost.
	RestartWorker
)

// String returns "full", "resume", "worker" or "restart(N)".
func (k RestartKind) String() string {
	switch k {
	case RestartFull:
		return "full"
	case RestartResume:
		return "resume"
	case RestartWorker:
		return "worker"
	}
	return "restart(" + strconv.Itoa(int(k)) + ")"
}
