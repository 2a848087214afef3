package shard

import "time"

// Event is a shard lifecycle event handed to the WithEventHook function.
// The set is closed: Connected, Ready, Resumed, Disconnected, Reconnecting
// and Fatal. Switch on the concrete type.
type Event interface {
	// Shard returns the id of the shard the event is about.
	Shard() int
	isEvent()
}

// Connected is sent once the websocket is open and HELLO arrived.
type Connected struct {
	ShardID int
	// Resuming says whether the shard will RESUME (true) or IDENTIFY.
	Resuming bool
}

// Ready is sent when READY arrived: a new session started.
type Ready struct {
	ShardID   int
	SessionID string
}

// Resumed is sent when RESUMED arrived: the old session continues.
// Replayed is how many dispatches the gateway replayed before RESUMED.
type Resumed struct {
	ShardID  int
	Replayed int
}

// Disconnected is sent when a connection ended. Err says why (a
// *CloseError, ErrZombie, ErrReconnectRequested, *InvalidSessionError, a
// network error, or ErrClosed after Close).
type Disconnected struct {
	ShardID int
	Err     error
}

// Reconnecting is sent before the shard waits Delay and dials again.
// Resume says whether it will try to resume the session.
type Reconnecting struct {
	ShardID int
	Attempt int
	Delay   time.Duration
	Resume  bool
}

// Fatal is sent once when the shard stopped for good because of Err (for
// example ErrInvalidToken). Shard.Err returns the same error.
type Fatal struct {
	ShardID int
	Err     error
}

// Shard implements Event.
func (e Connected) Shard() int { return e.ShardID }

// Shard implements Event.
func (e Ready) Shard() int { return e.ShardID }

// Shard implements Event.
func (e Resumed) Shard() int { return e.ShardID }

// Shard implements Event.
func (e Disconnected) Shard() int { return e.ShardID }

// Shard implements Event.
func (e Reconnecting) Shard() int { return e.ShardID }

// Shard implements Event.
func (e Fatal) Shard() int { return e.ShardID }

func (Connected) isEvent()    {}
func (Ready) isEvent()        {}
func (Resumed) isEvent()      {}
func (Disconnected) isEvent() {}
func (Reconnecting) isEvent() {}
func (Fatal) isEvent()        {}
