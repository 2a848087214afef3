package shard

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/wire"
)

// cacheLinePad keeps the fields around it on separate cache lines. 128
// bytes, not 64: x86 cores also prefetch the adjacent line.
type cacheLinePad [128]byte

// dispatchItem is one dispatch waiting for the handler: either raw event
// data to decode, or data already decoded on the read loop. raw lies in
// buf, a buffer of rawPool that the dispatch goroutine owns once it takes
// the item and gives back after decoding (wire.DecodeDispatch's result
// never aliases its input). unchecked says raw was not scanned and may run
// past the data's end (wire.ParseEnvelopeLazy).
type dispatchItem struct {
	seq       int
	typ       gateway.EventType
	raw       []byte
	buf       *[]byte
	data      gateway.EventData
	unchecked bool
}

// rawPool recycles the buffers that frames are read into and that carry a
// dispatch's data from the read loop to the dispatch goroutine. Pooling
// them instead of allocating a copy per event removes the largest
// allocation of the read loop (about 1 KiB per MESSAGE_CREATE) and the
// garbage collection it drives.
var rawPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRaw is the capacity above which a buffer is not given back to
// rawPool: an occasional large GUILD_CREATE should not pin its size in
// every pooled buffer.
const maxPooledRaw = 64 << 10

// takeRaw returns a pooled buffer holding a copy of d.
func takeRaw(d []byte) *[]byte {
	bp := rawPool.Get().(*[]byte)
	*bp = append((*bp)[:0], d...)
	return bp
}

// releaseRaw gives bp back to rawPool. bp must not be used afterwards.
func releaseRaw(bp *[]byte) {
	if bp == nil || cap(*bp) > maxPooledRaw {
		return
	}
	*bp = (*bp)[:0]
	rawPool.Put(bp)
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

// offer puts item into the dispatch queue only if there is room.
func (s *Shard) offer(item dispatchItem) {
	select {
	case s.dispatch <- item:
	default:
	}
}

// dispatchLoop is the dispatch goroutine: it decodes each queued dispatch
// and calls the handler, in order, until the queue is closed (after the
// connection goroutine exited) and drained.
func (s *Shard) dispatchLoop() {
	defer close(s.dispatchDone)
	for item := range s.dispatch {
		if s.abandon.Load() {
			releaseRaw(item.buf)
			continue
		}
		data := item.data
		if data == nil {
			var err error
			data, err = s.decode(item)
			releaseRaw(item.buf)
			if err != nil {
				s.dropped.Add(1)
				s.log.Warn("malformed dispatch dropped",
					slog.Int("seq", item.seq), slog.String("type", string(item.typ)), slog.Any("err", err))
				s.markHandled(item.seq)
				continue
			}
		}
		if _, unknown := data.(gateway.EventUnknown); unknown {
			s.log.Debug("unknown event type skipped", slog.Int("seq", item.seq), slog.String("type", string(item.typ)))
		} else if s.handler != nil {
			s.handler(s, item.typ, item.seq, data)
		}
		s.markHandled(item.seq)
	}
}

func (s *Shard) markHandled(seq int) {
	if seq > 0 {
		s.handledSeq.Store(int64(seq))
	}
}

// decode decodes a queued dispatch. Guild payloads first lose their
// non-guild channels, which disgo's decoder would panic on. A panic in the
// decoder is turned into an error: a payload never crashes the process.
// Data the read loop did not scan is checked here: a frame malformed after
// its envelope's head is dropped like undecodable data, after its seq was
// recorded.
func (s *Shard) decode(item dispatchItem) (data gateway.EventData, err error) {
	raw := item.raw
	if item.typ == gateway.EventTypeGuildCreate || item.typ == gateway.EventTypeGuildUpdate {
		if item.unchecked {
			exact, xerr := wire.ExactData(raw)
			if xerr != nil {
				return nil, &MalformedDispatchError{Seq: item.seq, Type: item.typ, Err: xerr}
			}
			raw, item.unchecked = exact, false
		}
		filtered, n, ferr := filterGuildChannels(raw)
		if ferr != nil {
			return nil, &MalformedDispatchError{Seq: item.seq, Type: item.typ, Err: ferr}
		}
		if n > 0 {
			s.filtered.Add(uint64(n))
			s.log.Warn("non-guild channels removed from guild payload",
				slog.Int("seq", item.seq), slog.String("type", string(item.typ)), slog.Int("count", n))
			raw = filtered
		}
	}
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, &MalformedDispatchError{Seq: item.seq, Type: item.typ, Err: fmt.Errorf("decoder panicked: %v", r)}
		}
	}()
	if item.unchecked {
		data, err = wire.DecodeUnchecked(item.typ, raw)
	} else {
		data, err = wire.DecodeDispatch(item.typ, raw)
	}
	if err != nil {
		return nil, &MalformedDispatchError{Seq: item.seq, Type: item.typ, Err: err}
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
