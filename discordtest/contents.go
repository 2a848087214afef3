package discordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// MaxContents is how many distinct message contents a Server can carry in
// MESSAGE_CREATE traffic over its life ([Server.EmitMessage],
// [WithContents], [Server.SetContents]), the default lorem ipsum included.
// Contents are interned: sending the same string again costs nothing.
const MaxContents = 1 << 16

// ErrTooManyContents is returned when a Server already carries
// [MaxContents] distinct message contents.
var ErrTooManyContents = errors.New("discordtest: too many distinct message contents")

// contentTable interns message contents as escaped JSON string bodies, so a
// dispatch entry refers to its content by a 16-bit index (index 0 is the
// default lorem ipsum) and the writer splices the bytes in without
// encoding. Reads are lock-free; adds take mu and publish a longer slice.
type contentTable struct {
	list atomic.Pointer[[][]byte]

	mu  sync.Mutex
	idx map[string]uint16
}

func (t *contentTable) init() {
	t.idx = map[string]uint16{msgContent: 0}
	list := [][]byte{escapeContent(msgContent)}
	t.list.Store(&list)
}

// escapeContent returns s as the inside of a JSON string.
func escapeContent(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic("discordtest: encoding a string: " + err.Error()) // a string always encodes
	}
	return b[1 : len(b)-1]
}

// intern returns the index of s, adding it if it is new.
func (t *contentTable) intern(s string) (uint16, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.idx[s]; ok {
		return i, nil
	}
	old := *t.list.Load()
	if len(old) >= MaxContents {
		return 0, ErrTooManyContents
	}
	i := uint16(len(old))
	// Appending may write into old's spare capacity: that is safe, because
	// a reader only indexes below the length of the slice it loaded.
	list := append(old, escapeContent(s))
	t.list.Store(&list)
	t.idx[s] = i
	return i, nil
}

// get returns the escaped bytes of content i; it never blocks.
func (t *contentTable) get(i uint16) []byte { return (*t.list.Load())[i] }

// contentMix is the share of rate traffic that carries chosen contents:
// every every-th MESSAGE_CREATE carries idx[n % len(idx)], in turn.
type contentMix struct {
	every uint64
	idx   []uint16
}

// WithContents makes every every-th MESSAGE_CREATE of rate traffic (see
// [WithRate]) carry the next of contents in turn, instead of the default
// lorem ipsum, for example WithContents(50, "!ping", "!stats") to make 1 in
// 50 messages a bot command. every 0 (the default) turns it off. The
// contents are encoded once; traffic stays allocation-free. See
// [Server.SetContents] to change it later.
func WithContents(every int, contents ...string) Option {
	return func(c *config) {
		c.contentsEvery, c.contents = every, append([]string(nil), contents...)
	}
}

// validateContents checks the WithContents option.
func (c *config) validateContents() error {
	switch {
	case c.contentsEvery < 0:
		return &OptionError{Option: "WithContents", Reason: "every must not be negative"}
	case c.contentsEvery > 0 && len(c.contents) == 0:
		return &OptionError{Option: "WithContents", Reason: "needs at least one content"}
	case len(c.contents) >= MaxContents:
		return &OptionError{Option: "WithContents", Reason: "too many contents"}
	}
	return nil
}

// SetContents changes the share of rate traffic that carries chosen
// contents (see [WithContents]); every 0 turns it off. Live connections
// pick it up with their next message. It fails with an error wrapping
// ErrInvalidOption for a negative every or no contents, and with
// ErrTooManyContents past [MaxContents] distinct contents.
func (s *Server) SetContents(every int, contents ...string) error {
	if every < 0 || every > 0 && len(contents) == 0 {
		return fmt.Errorf("discordtest: SetContents(%d, %d contents): %w", every, len(contents), ErrInvalidOption)
	}
	if every == 0 {
		s.mix.Store(nil)
		return nil
	}
	m := &contentMix{every: uint64(every), idx: make([]uint16, len(contents))}
	for i, c := range contents {
		n, err := s.contents.intern(c)
		if err != nil {
			return err
		}
		m.idx[i] = n
	}
	s.mix.Store(m)
	return nil
}

// mixedContent returns the content index of the n-th (1-based) rate
// MESSAGE_CREATE of a connection: 0 (lorem ipsum) unless a mix is set and n
// is a multiple of its every.
func (s *Server) mixedContent(n uint64) uint16 {
	m := s.mix.Load()
	if m == nil || n%m.every != 0 {
		return 0
	}
	return m.idx[(n/m.every-1)%uint64(len(m.idx))]
}

// EmitMessage queues one MESSAGE_CREATE carrying content to the shard's live
// session (or to every live session for AllShards), from a member of one of
// the shard's guilds in one of its text channels (a DM if the shard owns no
// guild). Like [Server.Emit] it never blocks, is written before rate
// traffic, belongs to the session (a RESUME carries it over, a replay
// repeats it with the same content), and is recorded in the ledger when it
// is written. Messages queued by EmitMessage go out in order. The content
// is interned (see [MaxContents]); it is not checked against Discord's
// 2000-character limit, so a test can send what a client must cope with.
func (s *Server) EmitMessage(shardID int, content string) error {
	idx, err := s.contents.intern(content)
	if err != nil {
		return err
	}
	cs, err := s.targets(shardID)
	if err != nil {
		return err
	}
	ok := false
	for _, c := range cs {
		if sess := c.sess.Load(); sess != nil {
			sess.pushContent(idx)
			sess.emit.Add(1)
			c.poke()
			ok = true
		}
	}
	if !ok {
		return ErrNoSession
	}
	return nil
}
