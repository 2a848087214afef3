package shard

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/wire"
)

// cacheLinePad keeps the fields around it on separate cache lines. 128
// bytes, not 64: x86 cores also prefetch the adjacent line.
type cacheLinePad [128]byte

// dispatchItem is one decoded dispatch on its way to the handler.
type dispatchItem struct {
	seq  int
	size int // bytes of the data as received
	typ  gateway.EventType
	data gateway.EventData
}

// newDispatchQueue returns the dispatch queue, or nil for none: with a
// batch handler, or a dispatch buffer of 0, the read loop hands events over
// itself.
func newDispatchQueue(cfg config) chan dispatchItem {
	if cfg.dispatchBuffer == 0 || cfg.batchHandler != nil {
		return nil
	}
	return make(chan dispatchItem, cfg.dispatchBuffer)
}

// hand gives one decoded dispatch to the handler: on the read loop itself
// without a dispatch queue (WithDispatchBuffer(0)), else through the
// queue. It returns false if the shard stopped before the dispatch was
// accepted; its sequence number is then not recorded.
//
// Called on the read loop, the handler may block (a cluster's executor
// pushing back): the read loop is marked stalled meanwhile, so that the
// heartbeat goroutine does not take the ACKs it leaves unread for a
// zombie connection.
func (s *Shard) hand(ss *session, item dispatchItem) bool {
	c := ss.c
	if s.cfg.batchHandler != nil {
		s.collect(ss, Dispatch{Seq: item.seq, Size: item.size, Type: item.typ, Data: item.data})
		return true
	}
	if s.dispatch != nil {
		return s.enqueue(c, item)
	}
	if s.handler != nil {
		c.stallBegin()
		s.handler(s, item.typ, item.seq, item.data)
		c.stallEnd()
	}
	s.markHandled(item.seq)
	return true
}

// enqueue puts item into the dispatch queue, blocking while it is full
// (counted, and marked as a read-loop stall for the heartbeat). It returns
// false if the shard stopped while it waited; the item is then not
// accepted and its sequence number not recorded.
func (s *Shard) enqueue(c *conn, item dispatchItem) bool {
	select {
	case s.dispatch <- item:
		return true
	default:
	}
	s.fullWaits.Add(1)
	c.stallBegin()
	defer c.stallEnd()
	select {
	case s.dispatch <- item:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// offer hands a synthetic event (a heartbeat ACK) to the handler: into the
// dispatch queue only if there is room, or, without a queue, directly.
func (s *Shard) offer(ss *session, item dispatchItem) {
	if s.dispatch == nil {
		s.hand(ss, item)
		return
	}
	select {
	case s.dispatch <- item:
	default:
	}
}

// dispatchLoop is the dispatch goroutine of a shard with a dispatch queue:
// it calls the handler for each queued dispatch, in order, until the queue
// is closed (after the connection goroutine exited) and drained.
func (s *Shard) dispatchLoop() {
	defer close(s.dispatchDone)
	for item := range s.dispatch {
		if s.abandon.Load() {
			continue
		}
		if s.handler != nil {
			s.handler(s, item.typ, item.seq, item.data)
		}
		s.markHandled(item.seq)
	}
}

func (s *Shard) markHandled(seq int) {
	if seq > 0 {
		s.handledSeq.Store(int64(seq))
	}
}

// decode decodes a dispatch's data on the read loop. Guild payloads first
// lose their non-guild channels, which disgo's decoder would panic on. A
// panic in the decoder is turned into an error: a payload never crashes the
// process. Data the envelope parse did not scan (unchecked, see
// wire.ParseEnvelopeLazy) is checked here: a frame malformed after its
// envelope's head is dropped like undecodable data. The result never
// aliases raw, so the read buffer serves the next frame at once.
func (s *Shard) decode(seq int, typ gateway.EventType, raw []byte, unchecked bool) (data gateway.EventData, err error) {
	if typ == gateway.EventTypeGuildCreate || typ == gateway.EventTypeGuildUpdate {
		if unchecked {
			exact, xerr := wire.ExactData(raw)
			if xerr != nil {
				return nil, &MalformedDispatchError{Seq: seq, Type: typ, Err: xerr}
			}
			raw, unchecked = exact, false
		}
		filtered, n, ferr := filterGuildChannels(raw)
		if ferr != nil {
			return nil, &MalformedDispatchError{Seq: seq, Type: typ, Err: ferr}
		}
		if n > 0 {
			s.filtered.Add(uint64(n))
			s.log.Warn("non-guild channels removed from guild payload",
				slog.Int("seq", seq), slog.String("type", string(typ)), slog.Int("count", n))
			raw = filtered
		}
	}
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, &MalformedDispatchError{Seq: seq, Type: typ, Err: fmt.Errorf("decoder panicked: %v", r)}
		}
	}()
	if unchecked {
		data, err = wire.DecodeUnchecked(typ, raw)
	} else {
		data, err = wire.DecodeDispatch(typ, raw)
	}
	if err != nil {
		return nil, &MalformedDispatchError{Seq: seq, Type: typ, Err: err}
	}
	return data, nil
}

// filterGuildChannels removes channels that are not guild channels (DM and
// group DM) from a guild object's "channels" array. It returns the payload
// unchanged (and 0) when there is nothing to remove.
func filterGuildChannels(raw []byte) ([]byte, int, error) {
	var probe struct {
		Channels []json.RawMessage `json:"channels"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, 0, fmt.Errorf("guild payload: %w", err)
	}
	kept := probe.Channels[:0:0]
	removed := 0
	for _, ch := range probe.Channels {
		var t struct {
			Type discord.ChannelType `json:"type"`
		}
		if err := json.Unmarshal(ch, &t); err != nil {
			return nil, 0, fmt.Errorf("guild channel: %w", err)
		}
		if t.Type == discord.ChannelTypeDM || t.Type == discord.ChannelTypeGroupDM {
			removed++
			continue
		}
		kept = append(kept, ch)
	}
	if removed == 0 {
		return raw, 0, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, 0, fmt.Errorf("guild payload: %w", err)
	}
	channels, err := json.Marshal(kept)
	if err != nil {
		return nil, 0, fmt.Errorf("guild channels: %w", err)
	}
	fields["channels"] = channels
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, 0, fmt.Errorf("guild payload: %w", err)
	}
	return out, removed, nil
}
