package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Client opcodes (Discord gateway v10).
const (
	opDispatch            = 0
	opHeartbeat           = 1
	opIdentify            = 2
	opPresenceUpdate      = 3
	opVoiceStateUpdate    = 4
	opResume              = 6
	opReconnect           = 7
	opRequestGuildMembers = 8
	opInvalidSession      = 9
	opHello               = 10
	opHeartbeatACK        = 11
	opRequestSoundboard   = 31
)

// Gateway close codes the server sends.
const (
	closeUnknownError         = 4000
	closeUnknownOpcode        = 4001
	closeDecodeError          = 4002
	closeNotAuthenticated     = 4003
	closeAuthenticationFailed = 4004
	closeAlreadyAuthenticated = 4005
	closeRateLimited          = 4008
	closeInvalidShard         = 4010
	closeShardingRequired     = 4011
	closeInvalidAPIVersion    = 4012
	closeInvalidIntents       = 4013
	closeDisallowedIntents    = 4014
)

// maxPayload is the largest payload a client may send, in bytes.
const maxPayload = 4096

var (
	errDecode        = errors.New("discordtest: payload decode error")
	errUnknownOpcode = errors.New("discordtest: unknown opcode")
)

// clientPayload is a client's gateway payload after the first decode.
type clientPayload struct {
	op int
	d  json.RawMessage
}

// identifyData is the part of IDENTIFY the server validates.
type identifyData struct {
	Token   string  `json:"token"`
	Intents int64   `json:"intents"`
	Shard   *[2]int `json:"shard"`
}

// resumeData is RESUME's data.
type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       *int64 `json:"seq"`
}

// parseClientPayload decodes {"op":..,"d":..}. It returns errDecode when the
// payload is not a JSON object with an integer op, and errUnknownOpcode for
// an op a client may not send.
func parseClientPayload(data []byte) (clientPayload, error) {
	var raw struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || raw.Op == nil {
		return clientPayload{}, errDecode
	}
	switch *raw.Op {
	case opHeartbeat, opIdentify, opPresenceUpdate, opVoiceStateUpdate, opResume,
		opRequestGuildMembers, opRequestSoundboard:
	default:
		return clientPayload{}, errUnknownOpcode
	}
	return clientPayload{op: *raw.Op, d: raw.D}, nil
}

// parseHeartbeat accepts d: null (or absent) or an integer sequence number.
func parseHeartbeat(d json.RawMessage) error {
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return nil
	}
	var seq int64
	if err := json.Unmarshal(d, &seq); err != nil {
		return errDecode
	}
	return nil
}

// parseIdentify decodes IDENTIFY's data.
func parseIdentify(d json.RawMessage) (identifyData, error) {
	var id identifyData
	if len(d) == 0 || json.Unmarshal(d, &id) != nil {
		return identifyData{}, errDecode
	}
	return id, nil
}

// parseResume decodes RESUME's data; seq is required.
func parseResume(d json.RawMessage) (resumeData, error) {
	var r resumeData
	if len(d) == 0 || json.Unmarshal(d, &r) != nil || r.Seq == nil {
		return resumeData{}, errDecode
	}
	return r, nil
}
