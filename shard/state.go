package shard

import (
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// State is a shard's resume state: enough to resume its session from
// another Shard value or another process (see WithState). The zero value
// means "no session". It is a plain value, safe to copy and JSON-encode.
type State struct {
	SessionID string `json:"session_id"`
	Seq       int    `json:"seq"`
	ResumeURL string `json:"resume_url"`
}

// Resumable reports whether the state holds a session to resume.
func (s State) Resumable() bool { return s.SessionID != "" }

// Stats is a snapshot of one shard's counters. All counts are totals
// since New, except EventsPerSecond.
type Stats struct {
	ShardID int
	Status  gateway.Status
	// Latency is the round trip of the last acknowledged heartbeat.
	Latency time.Duration
	// Events counts dispatches accepted: handed to the handler (or its
	// queue), or dropped because they did not decode.
	Events uint64
	// EventsPerSecond is the rate of Events over the last stats window
	// (WithStatsWindow), measured between Stats calls.
	EventsPerSecond float64
	Identifies      uint64
	Resumes         uint64
	// Reconnects counts connections after the first.
	Reconnects uint64
	// Dropped counts dispatches dropped because they could not be decoded.
	Dropped uint64
	// Duplicates counts replayed dispatches with a sequence number the
	// shard had already accepted; they are dropped.
	Duplicates uint64
	// FilteredChannels counts non-guild channels (DM, group DM) removed
	// from GUILD_CREATE/GUILD_UPDATE before decoding.
	FilteredChannels uint64
	UnknownOpcodes   uint64
	// Heartbeats counts heartbeats sent; Acks counts ACKs received.
	Heartbeats uint64
	Acks       uint64
	// Zombies counts connections closed for a missing heartbeat ACK.
	Zombies uint64
	// QueueDepth is how many dispatches wait for the handler now.
	QueueDepth int
	// QueueFullWaits counts how many times the read loop had to wait
	// because the dispatch queue was full.
	QueueFullWaits uint64
}

// Add returns s with the counters of past added to its own (Events,
// Identifies, Resumes, Reconnects, Dropped, Duplicates, FilteredChannels,
// UnknownOpcodes, Heartbeats, Acks, Zombies, QueueFullWaits); the other
// fields are s's. It carries a shard ID's history over the Shards that
// served it one after another (a restart builds new ones), so that its
// counters never go back.
func (s Stats) Add(past Stats) Stats {
	s.Events += past.Events
	s.Identifies += past.Identifies
	s.Resumes += past.Resumes
	s.Reconnects += past.Reconnects
	s.Dropped += past.Dropped
	s.Duplicates += past.Duplicates
	s.FilteredChannels += past.FilteredChannels
	s.UnknownOpcodes += past.UnknownOpcodes
	s.Heartbeats += past.Heartbeats
	s.Acks += past.Acks
	s.Zombies += past.Zombies
	s.QueueFullWaits += past.QueueFullWaits
	return s
}
