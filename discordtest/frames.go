package discordtest

import (
	"encoding/json"
	"strconv"

	"github.com/disgoorg/snowflake/v2"
)

// typingTime is the timestamp of TYPING_START (2024-06-01T12:00:00Z).
const typingTime = 1717243200

// helloFrame returns HELLO with the configured heartbeat interval.
func (s *Server) helloFrame() []byte {
	b := []byte(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":`)
	b = strconv.AppendInt(b, s.cfg.heartbeatInterval.Milliseconds(), 10)
	return append(b, `,"_trace":["[\"discordtest\",{\"micros\":0}]"]}}`...)
}

type unavailableGuild struct {
	ID          snowflake.ID `json:"id"`
	Unavailable bool         `json:"unavailable"`
}

type readyApplication struct {
	ID    snowflake.ID `json:"id"`
	Flags int          `json:"flags"`
}

type readyData struct {
	V                int                `json:"v"`
	User             selfUser           `json:"user"`
	Guilds           []unavailableGuild `json:"guilds"`
	SessionID        string             `json:"session_id"`
	SessionType      string             `json:"session_type"`
	ResumeGatewayURL string             `json:"resume_gateway_url"`
	Shard            [2]int             `json:"shard"`
	Application      readyApplication   `json:"application"`
	PrivateChannels  []struct{}         `json:"private_channels"`
	Relationships    []struct{}         `json:"relationships"`
	Presences        []struct{}         `json:"presences"`
	GuildJoinReqs    []struct{}         `json:"guild_join_requests"`
	Trace            []string           `json:"_trace"`
}

// applicationFlags are GATEWAY_PRESENCE_LIMITED, GATEWAY_GUILD_MEMBERS_LIMITED
// and GATEWAY_MESSAGE_CONTENT_LIMITED, as a small verified bot has.
const applicationFlags = 1<<13 | 1<<15 | 1<<19

// readyData encodes READY's data for a new session. It runs once per
// IDENTIFY, never on the traffic path.
func (s *Server) readyData(sess *session) []byte {
	d := readyData{
		V:                10,
		User:             s.selfUser(),
		Guilds:           make([]unavailableGuild, len(sess.guilds)),
		SessionID:        sess.id,
		SessionType:      "normal",
		ResumeGatewayURL: s.ResumeURL(),
		Shard:            [2]int{sess.shardID, sess.shardCount},
		Application:      readyApplication{ID: s.appID, Flags: applicationFlags},
		PrivateChannels:  []struct{}{},
		Relationships:    []struct{}{},
		Presences:        []struct{}{},
		GuildJoinReqs:    []struct{}{},
		Trace:            []string{`["discordtest",{"micros":0}]`},
	}
	for i, g := range sess.guilds {
		d.Guilds[i] = unavailableGuild{ID: s.world.guildID(g), Unavailable: true}
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic("discordtest: encoding READY: " + err.Error()) // static shapes; cannot fail
	}
	return b
}

// render appends the frame of a session's dispatch e to dst.
func (w *writer) render(dst []byte, e *entry) []byte {
	start := len(dst)
	dst = w.renderData(dst, e)
	if w.s.cfg.dataNotLast && len(dst) > start {
		dst = append(dst[:len(dst)-1], dataTrailer...) // every dispatch frame ends with its '}'
	}
	return dst
}

// dataTrailer replaces a dispatch frame's closing brace under
// WithDataNotLast.
const dataTrailer = `,"_trace":["discordtest"]}`

// renderData appends the dispatch frame of e, "d" last.
func (w *writer) renderData(dst []byte, e *entry) []byte {
	wd := w.s.world
	switch e.kind {
	case kindReady:
		return dispatchFrame(dst, "READY", e.seq, w.sess.ready)
	case kindGuildCreate:
		return dispatchFrame(dst, "GUILD_CREATE", e.seq, wd.guildBody(int(e.guild)))
	case kindDMGuildCreate:
		return dispatchFrame(dst, "GUILD_CREATE", e.seq, wd.dmGuildBody(int(e.guild), int(e.id&0xfffff)))
	case kindResumed:
		vals := holeVals{holeSeq: uint64(e.seq)}
		return tplResumed.render(dst, &vals)
	}
	vals := holeVals{holeSeq: uint64(e.seq), holeID: e.id, holeTime: typingTime}
	if e.guild < 0 {
		vals[holeChannel] = uint64(makeID(dmBase, w.sess.shardID))
		vals[holeUser] = uint64(wd.userID(0))
		return tplDMMessageCreate.renderContent(dst, &vals, w.s.contents.get(e.text))
	}
	g := int(e.guild)
	channel, user := wd.actor(g, e.k)
	vals[holeGuild] = uint64(wd.guildID(g))
	vals[holeChannel] = uint64(channel)
	vals[holeUser] = uint64(wd.userID(user))
	vals[holeUserN] = uint64(user)
	switch e.kind {
	case kindMemberAdd:
		return tplMemberAdd.render(dst, &vals)
	case kindReaction:
		return tplReactionAdd.render(dst, &vals)
	case kindTyping:
		return tplTypingStart.render(dst, &vals)
	case kindGuildTyping:
		vals[holeTime] = typingTime + e.id
		return tplTypingStart.render(dst, &vals)
	default:
		return tplMessageCreate.renderContent(dst, &vals, w.s.contents.get(e.text))
	}
}
