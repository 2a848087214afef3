package shard

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/disgoorg/disgo/gateway"
)

// Sentinel errors. Match them with errors.Is; a *CloseError unwraps to the
// sentinel for its close code.
var (
	// ErrInvalidToken is returned (via Err and Open) after Discord closed
	// the connection with 4004: the token is wrong. The shard stops.
	ErrInvalidToken = errors.New("shard: invalid token (close 4004)")
	// ErrInvalidShard is returned after close 4010: the shard id or shard
	// count sent in IDENTIFY is invalid. The shard stops.
	ErrInvalidShard = errors.New("shard: invalid shard (close 4010)")
	// ErrShardingRequired is returned after close 4011: the session would
	// hold too many guilds and the bot must use more shards. The shard
	// stops; re-sharding is the caller's job.
	ErrShardingRequired = errors.New("shard: sharding required (close 4011)")
	// ErrInvalidAPIVersion is returned after close 4012. The shard stops.
	ErrInvalidAPIVersion = errors.New("shard: invalid API version (close 4012)")
	// ErrInvalidIntents is returned after close 4013: the intents value is
	// not a valid bitfield. The shard stops.
	ErrInvalidIntents = errors.New("shard: invalid intents (close 4013)")
	// ErrDisallowedIntents is returned after close 4014: the bot asked for
	// a privileged intent it is not allowed. The shard stops.
	ErrDisallowedIntents = errors.New("shard: disallowed intents (close 4014)")

	// ErrClosed is returned by Open, Send and Err once Close or
	// CloseWithCode has been called.
	ErrClosed = errors.New("shard: closed")
	// ErrAlreadyOpen is returned by Open when the shard was opened before.
	// A Shard is opened at most once; build a new one to reconnect after
	// Close.
	ErrAlreadyOpen = errors.New("shard: already open")
	// ErrInvalidGatewayURL is returned by Open (and then by Err) when
	// WithGatewayProxy was given a URL that is not ws:// or wss://HOST. The
	// shard does not dial.
	ErrInvalidGatewayURL = errors.New("shard: invalid gateway url")
	// ErrUnsupportedCompression is returned by Open (and then by Err) when
	// WithCompression was given a compression the shard does not support:
	// gateway.CompressionZlibPayload, or a name Discord does not offer.
	// Nothing is dialled; the shard stops.
	ErrUnsupportedCompression = errors.New("shard: unsupported compression")
	// ErrNotReady is returned by Send while the shard has no ready
	// session (connecting, identifying, resuming or disconnected).
	ErrNotReady = errors.New("shard: not ready")
	// ErrPayloadTooLarge is returned by Send for a payload whose encoded
	// size exceeds 4096 bytes, Discord's limit. Nothing is sent.
	ErrPayloadTooLarge = errors.New("shard: payload larger than 4096 bytes")
	// ErrRateLimited is returned by Send when the context ended while the
	// send waited for a slot in the gateway send limit (120 per 60 s by
	// default, with some slots reserved for heartbeats).
	ErrRateLimited = errors.New("shard: send rate limited")
	// ErrZombie is the reason recorded when a heartbeat was not
	// acknowledged before the next beat was due. The shard resumes.
	ErrZombie = errors.New("shard: heartbeat not acknowledged (zombie connection)")
	// ErrReconnectRequested is the reason recorded when Discord sent
	// opcode 7 RECONNECT. The shard resumes.
	ErrReconnectRequested = errors.New("shard: reconnect requested by gateway (op 7)")
	// ErrInvalidSession is the reason recorded when Discord sent opcode 9
	// INVALID_SESSION. See *InvalidSessionError for whether it resumes.
	ErrInvalidSession = errors.New("shard: invalid session (op 9)")
	// ErrReadyTimeout is the reason recorded when the gateway did not
	// answer within the ready timeout (WithReadyTimeout): no HELLO after
	// the connection opened, or no READY or RESUMED after the IDENTIFY or
	// RESUME was written. On the shard's first connections it stops the
	// shard, so that Open returns it (a start that failed); later, the
	// shard reconnects.
	ErrReadyTimeout = errors.New("shard: gateway did not answer within the ready timeout")
	// ErrProtocol is the reason recorded when the gateway broke the
	// protocol in a way that forces a reconnect (for example no HELLO as
	// the first frame).
	ErrProtocol = errors.New("shard: gateway protocol error")
)

// fatalByCode maps Discord close codes that must not be retried to their
// sentinel.
var fatalByCode = map[int]error{
	4004: ErrInvalidToken,
	4010: ErrInvalidShard,
	4011: ErrShardingRequired,
	4012: ErrInvalidAPIVersion,
	4013: ErrInvalidIntents,
	4014: ErrDisallowedIntents,
}

// CloseError is a close frame received from the gateway. Unwrap returns the
// sentinel for fatal codes (for example ErrInvalidToken for 4004) and nil
// for the others. Reason is the text Discord sent, which never contains the
// token.
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	if sentinel := fatalByCode[e.Code]; sentinel != nil {
		return sentinel.Error() + ": " + strconv.Quote(e.Reason)
	}
	return fmt.Sprintf("shard: gateway closed with code %d: %q", e.Code, e.Reason)
}

// Unwrap returns the sentinel for a fatal close code, or nil.
func (e *CloseError) Unwrap() error { return fatalByCode[e.Code] }

// Fatal reports whether the code stops the shard for good.
func (e *CloseError) Fatal() bool { return fatalByCode[e.Code] != nil }

// reidentify reports whether the code invalidates the session, so the next
// connection must identify instead of resuming.
func (e *CloseError) reidentify() bool {
	switch e.Code {
	case 4003, 4007, 4009:
		return true
	}
	return false
}

// InvalidSessionError is the reason recorded when Discord sent opcode 9.
// Resumable is the op's d field. It unwraps to ErrInvalidSession.
type InvalidSessionError struct {
	Resumable bool
}

// Error implements error.
func (e *InvalidSessionError) Error() string {
	return fmt.Sprintf("%s (resumable=%t)", ErrInvalidSession.Error(), e.Resumable)
}

// Unwrap returns ErrInvalidSession.
func (e *InvalidSessionError) Unwrap() error { return ErrInvalidSession }

// UnknownOpcodeError describes a frame with an opcode this package does not
// know. The shard logs and counts it, then ignores the frame; it is exposed
// so that log handlers and tests can match it.
type UnknownOpcodeError struct {
	Op gateway.Opcode
}

// Error implements error.
func (e *UnknownOpcodeError) Error() string {
	return fmt.Sprintf("shard: unknown gateway opcode %d", int(e.Op))
}

// MalformedDispatchError describes a dispatch that could not be decoded.
// The shard logs and counts it, then drops it; the connection stays up.
// It never holds the payload. Err is the decoding error (it may wrap
// wire.ErrMalformedFrame).
type MalformedDispatchError struct {
	Seq  int
	Type gateway.EventType
	Err  error
}

// Error implements error.
func (e *MalformedDispatchError) Error() string {
	return fmt.Sprintf("shard: malformed dispatch %s (seq %d): %v", e.Type, e.Seq, e.Err)
}

// Unwrap returns the decoding error.
func (e *MalformedDispatchError) Unwrap() error { return e.Err }
