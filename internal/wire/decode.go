package wire

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/json/v2"
)

// ErrDispatchOpcode is returned by [DecodeControl] for op 0: dispatches are
// decoded by [DecodeDispatch].
var ErrDispatchOpcode = errors.New("wire: dispatch frames are decoded by DecodeDispatch")

// DecodeError reports event data that disgo's types could not decode. Unlike
// disgo's own error, it does not quote the payload. It matches
// [ErrMalformedFrame] through errors.Is, and unwraps to the JSON engine's
// error too.
type DecodeError struct {
	Op   gateway.Opcode
	Type gateway.EventType // empty for control frames
	Err  error
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("wire: decode %s: %v", e.Type, e.Err)
	}
	return fmt.Sprintf("wire: decode op %d: %v", e.Op, e.Err)
}

// Unwrap returns both [ErrMalformedFrame] and the underlying error.
func (e *DecodeError) Unwrap() []error { return []error{ErrMalformedFrame, e.Err} }

// DecodeDispatch decodes the data of a dispatch (op 0) of type t into disgo's
// event type, with the same result as disgo's gateway.UnmarshalEventData.
//
// The hot events (MESSAGE_CREATE, MESSAGE_UPDATE, MESSAGE_DELETE, the
// reaction adds and removes, TYPING_START, PRESENCE_UPDATE, the member adds
// and updates, INTERACTION_CREATE and VOICE_STATE_UPDATE) are first tried
// with the hot decoder: one pass over d that fills disgo's structs directly,
// generated from them, several times cheaper than the JSON engine. It
// declines anything it does not decode exactly as encoding/json does, and
// malformed data; that data, and every other type, goes to the current JSON
// engine (see [UseFastJSON]): the hottest types are decoded directly, the
// rest through disgo. So the result is the engine's either way. Data the hot
// decoder declines costs its partial pass on top of the engine's.
//
// The result never aliases d. A panic inside a type's UnmarshalJSON (disgo
// has some on odd input) is recovered and returned as an error. Safe for
// concurrent use.
func DecodeDispatch(t gateway.EventType, d []byte) (ev gateway.EventData, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, &DecodeError{Type: t, Err: fmt.Errorf("panic in decoder: %v", r)}
		}
	}()
	if t == gateway.EventTypeResumed {
		return gateway.EventResumed{}, nil // disgo ignores its data too
	}
	if len(d) == 0 {
		// encoding/json fails on empty input, as disgo would.
		return nil, &DecodeError{Type: t, Err: errors.New("no event data")}
	}
	if ev, ok := hotDecode(t, d); ok {
		return ev, nil
	}
	return engineDispatch(t, d)
}

// engineDispatch is DecodeDispatch without the hot decoder: d, not empty,
// goes to the JSON engine. It may panic.
func engineDispatch(t gateway.EventType, d []byte) (ev gateway.EventData, err error) {
	switch t {
	// Types whose decoding is wholly their own UnmarshalJSON (declared or
	// promoted) have it called directly. Through json.Unmarshal the engine
	// would first scan d to find the value's end and, for goccy, copy it
	// into a new slice before calling that same method, and v would escape
	// to the heap on top of the interface box. The method decodes d with
	// the current engine itself, which validates all of d: the result,
	// and whether d is accepted, are the same.
	case gateway.EventTypeMessageCreate:
		var v gateway.EventMessageCreate
		err = v.UnmarshalJSON(d)
		ev = v
	case gateway.EventTypeGuildCreate:
		var v gateway.EventGuildCreate
		err = v.UnmarshalJSON(d)
		ev = v
	case gateway.EventTypePresenceUpdate:
		var v gateway.EventPresenceUpdate
		err = json.Unmarshal(d, &v)
		ev = v
	case gateway.EventTypeTypingStart:
		var v gateway.EventTypingStart
		err = v.UnmarshalJSON(d)
		ev = v
	case gateway.EventTypeMessageUpdate:
		var v gateway.EventMessageUpdate
		err = v.UnmarshalJSON(d)
		ev = v
	case gateway.EventTypeMessageDelete:
		var v gateway.EventMessageDelete
		err = json.Unmarshal(d, &v)
		ev = v
	case gateway.EventTypeMessageReactionAdd:
		var v gateway.EventMessageReactionAdd
		err = v.UnmarshalJSON(d)
		ev = v
	case gateway.EventTypeGuildMemberUpdate:
		var v gateway.EventGuildMemberUpdate
		err = json.Unmarshal(d, &v)
		ev = v
	case gateway.EventTypeVoiceStateUpdate:
		var v gateway.EventVoiceStateUpdate
		err = json.Unmarshal(d, &v)
		ev = v
	case gateway.EventTypeInteractionCreate:
		var v gateway.EventInteractionCreate
		err = v.UnmarshalJSON(d)
		ev = v
	default:
		ev, err = gateway.UnmarshalEventData(d, t)
		if err != nil {
			// disgo's error quotes the payload: keep only its cause.
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
		}
	}
	if err != nil {
		return nil, &DecodeError{Type: t, Err: err}
	}
	return ev, nil
}

// DecodeUnchecked is [DecodeDispatch] for the data of an envelope from
// [ParseEnvelopeLazy], checked or not. It decodes d as it is first: when d
// was the frame's last key, as Discord sends it, that is the only pass over
// d. If that fails it looks for d's real end with [ExactData] and, when d
// was followed by other keys, decodes the value alone. A malformed frame
// returns ExactData's *[FrameError]; undecodable data DecodeDispatch's
// error.
//
// Data followed by other keys costs three passes (the failed decode, the
// scan, the decode), and undecodable data one scan more than with
// DecodeDispatch: Discord sends neither, so the common case has one pass.
func DecodeUnchecked(t gateway.EventType, d []byte) (gateway.EventData, error) {
	ev, err := DecodeDispatch(t, d)
	if err == nil {
		return ev, nil
	}
	exact, ferr := ExactData(d)
	if ferr != nil {
		return nil, ferr
	}
	if len(exact) == len(d) {
		return nil, err
	}
	return DecodeDispatch(t, exact)
}

// DecodeControl decodes the data of a non-dispatch frame into disgo's
// message type for op, the same way disgo's gateway.Message does: HELLO into
// gateway.MessageDataHello, INVALID_SESSION into
// gateway.MessageDataInvalidSession, HEARTBEAT into
// gateway.MessageDataHeartbeat, RECONNECT and HEARTBEAT_ACK into their empty
// types (d is not read). An unknown opcode returns a copy of d as
// gateway.MessageDataUnknown, where disgo's gateway.Message fails.
// Op 0 returns [ErrDispatchOpcode]. The result never aliases d. Safe for
// concurrent use.
func DecodeControl(op gateway.Opcode, d []byte) (md gateway.MessageData, err error) {
	defer func() {
		if r := recover(); r != nil {
			md, err = nil, &DecodeError{Op: op, Err: fmt.Errorf("panic in decoder: %v", r)}
		}
	}()
	switch op {
	case gateway.OpcodeDispatch:
		return nil, ErrDispatchOpcode
	case gateway.OpcodeReconnect:
		return gateway.MessageDataReconnect{}, nil
	case gateway.OpcodeHeartbeatACK:
		return gateway.MessageDataHeartbeatACK{}, nil
	case gateway.OpcodeHello:
		var v gateway.MessageDataHello
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeInvalidSession:
		var v gateway.MessageDataInvalidSession
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeHeartbeat:
		var v gateway.MessageDataHeartbeat
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeIdentify:
		var v gateway.MessageDataIdentify
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodePresenceUpdate:
		var v gateway.MessageDataPresenceUpdate
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeVoiceStateUpdate:
		var v gateway.MessageDataVoiceStateUpdate
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeResume:
		var v gateway.MessageDataResume
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeRequestGuildMembers:
		var v gateway.MessageDataRequestGuildMembers
		err = json.Unmarshal(d, &v)
		md = v
	case gateway.OpcodeRequestSoundboardSounds:
		var v gateway.MessageDataRequestSoundboardSounds
		err = json.Unmarshal(d, &v)
		md = v
	default:
		// disgo's gateway.Message fails here (MessageDataUnknown has no
		// UnmarshalJSON); keeping the raw data is more useful.
		return gateway.MessageDataUnknown(bytes.Clone(d)), nil
	}
	if err != nil {
		return nil, &DecodeError{Op: op, Err: err}
	}
	return md, nil
}
