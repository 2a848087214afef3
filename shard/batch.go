package shard

import (
	"github.com/disgoorg/disgo/gateway"
)

// Dispatch is one decoded dispatch, as a batch handler gets it
// (WithBatchHandler): its sequence number (0 for synthetic events), type
// and data, as disgo's gateway.EventHandlerFunc takes them, and Size, the
// length in bytes of its data as received (0 for synthetic events): a
// measure of the memory the decoded event holds, for a handler that
// bounds what it queues.
type Dispatch struct {
	Seq  int
	Size int
	Type gateway.EventType
	Data gateway.EventData
}

// maxBatch is the most dispatches the read loop collects before it hands
// them to a batch handler even though more frames are waiting.
const maxBatch = 64

// maxBatchSize is the most data (the sum of the dispatches' Size) the read
// loop collects before it hands the batch over even though more frames
// are waiting. It bounds what one shard holds decoded before the batch
// handler accepts it: at startup a batch of 64 GUILD_CREATEs would hold
// megabytes. 64 typical MESSAGE_CREATEs (1 to 2 KiB) stay under it.
const maxBatchSize = 256 << 10

// WithBatchHandler makes the read loop hand decoded dispatches to h in
// batches, in place of the handler given to New and of the dispatch queue
// (WithDispatchBuffer does not apply). The read loop collects the
// dispatches of every frame that has arrived, and calls h once the socket
// has nothing more to read, or after 64 (or 256 KiB of data), so that at
// high rates one hand-over (and one wake-up of whoever h hands them to)
// serves many events, and at low rates none waits for another. h runs on the read
// loop: it must hand the batch on and return, may block for backpressure
// (the read loop is marked stalled meanwhile, so the heartbeat does not
// take unread ACKs for a zombie), and must return once the shard closes.
// The slice is reused after h returns: copy what you keep. A cluster runs
// its shards this way.
func WithBatchHandler(h func(s *Shard, batch []Dispatch)) Option {
	return func(c *config) { c.batchHandler = h }
}

// collect adds one decoded dispatch to the session's batch, handing the
// batch over when it is full.
func (s *Shard) collect(ss *session, d Dispatch) {
	ss.pending = append(ss.pending, d)
	ss.pendingSize += d.Size
	if len(ss.pending) >= maxBatch || ss.pendingSize >= maxBatchSize {
		s.flush(ss)
	}
}

// flush hands the session's batch to the batch handler. The read loop
// calls it when it is about to wait for the network (see idleConn), when
// the batch is full, and when the connection ends.
func (s *Shard) flush(ss *session) {
	if len(ss.pending) == 0 {
		return
	}
	ss.c.stallBegin()
	s.cfg.batchHandler(s, ss.pending)
	ss.c.stallEnd()
	for i := len(ss.pending) - 1; i >= 0; i-- {
		if seq := ss.pending[i].Seq; seq > 0 {
			s.markHandled(seq)
			break
		}
	}
	clear(ss.pending) // drop the references to the events
	ss.pending, ss.pendingSize = ss.pending[:0], 0
}
