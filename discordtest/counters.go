package discordtest

import "sync/atomic"

// Counters is a snapshot of what the server has seen and done since it
// started. It is a plain value, safe to copy and compare.
type Counters struct {
	Connections           int64 // websocket connections accepted
	ActiveConnections     int64 // websocket connections open now
	Identifies            int64 // IDENTIFYs admitted (sessions created)
	Resumes               int64 // RESUMEs admitted
	ResumeFailures        int64 // RESUMEs answered with op 9 d:false
	BucketBreaches        int64 // IDENTIFYs inside their bucket's window (answered op 9 d:false)
	SessionStartRemaining int64 // session_start_limit.remaining now
	SessionLimitRefusals  int64 // IDENTIFYs refused for lack of session starts (op 9 d:false)
	AuthFailures          int64 // closes with 4004
	InvalidShards         int64 // closes with 4010
	ShardingRequired      int64 // closes with 4011
	IntentCloses          int64 // closes with 4013 or 4014
	SendLimitCloses       int64 // closes with 4008
	OversizeCloses        int64 // closes with 4002 for a payload over 4096 bytes
	DecodeCloses          int64 // closes with 4002 for a payload that does not decode
	UnknownOpcodeCloses   int64 // closes with 4001
	Heartbeats            int64 // heartbeats received
	Acks                  int64 // heartbeat ACKs sent
	DispatchesSent        int64 // dispatch frames written, replays included
	Replayed              int64 // dispatch frames written as RESUME replays
	MalformedSent         int64 // malformed frames written
	Reconnects            int64 // op 7 sent
	InvalidSessions       int64 // op 9 sent, for any reason
	FaultCloses           int64 // close frames sent by CloseShard
	Drops                 int64 // TCP connections dropped by DropShard
	MessagesPosted        int64 // messages created by POST /channels/{id}/messages (see Server.Posted)
	GatewayBotRequests    int64 // GET /gateway/bot requests, answered or refused (see Server.FailGatewayBot)
}

type counters struct {
	connections, active, identifies, resumes, resumeFailures       atomic.Int64
	bucketBreaches, sessionLimitRefusals, authFailures             atomic.Int64
	invalidShards, shardingRequired, intentCloses, sendLimitCloses atomic.Int64
	oversizeCloses, decodeCloses, unknownOpcodeCloses              atomic.Int64
	heartbeats, acks, dispatches, replayed, malformed, reconnects  atomic.Int64
	invalidSessions, faultCloses, drops                            atomic.Int64
	messagesPosted, gatewayBotRequests                             atomic.Int64
}

// Counters returns a snapshot of the server's counters. Each field is read
// atomically, but the fields are not read at one instant.
func (s *Server) Counters() Counters {
	c := &s.ctr
	remaining, _ := s.gate.limit()
	return Counters{
		Connections:           c.connections.Load(),
		ActiveConnections:     c.active.Load(),
		Identifies:            c.identifies.Load(),
		Resumes:               c.resumes.Load(),
		ResumeFailures:        c.resumeFailures.Load(),
		BucketBreaches:        c.bucketBreaches.Load(),
		SessionStartRemaining: int64(remaining),
		SessionLimitRefusals:  c.sessionLimitRefusals.Load(),
		AuthFailures:          c.authFailures.Load(),
		InvalidShards:         c.invalidShards.Load(),
		ShardingRequired:      c.shardingRequired.Load(),
		IntentCloses:          c.intentCloses.Load(),
		SendLimitCloses:       c.sendLimitCloses.Load(),
		OversizeCloses:        c.oversizeCloses.Load(),
		DecodeCloses:          c.decodeCloses.Load(),
		UnknownOpcodeCloses:   c.unknownOpcodeCloses.Load(),
		Heartbeats:            c.heartbeats.Load(),
		Acks:                  c.acks.Load(),
		DispatchesSent:        c.dispatches.Load(),
		Replayed:              c.replayed.Load(),
		MalformedSent:         c.malformed.Load(),
		Reconnects:            c.reconnects.Load(),
		InvalidSessions:       c.invalidSessions.Load(),
		FaultCloses:           c.faultCloses.Load(),
		Drops:                 c.drops.Load(),
		MessagesPosted:        c.messagesPosted.Load(),
		GatewayBotRequests:    c.gatewayBotRequests.Load(),
	}
}
