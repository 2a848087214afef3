package discordtest

import (
	"strconv"
	"strings"
)

// hole is a value spliced into a frame template.
type hole uint8

const (
	holeSeq     hole = iota // the dispatch's sequence number
	holeID                  // a fresh snowflake (message ID, nonce, new user)
	holeGuild               // the guild's snowflake
	holeChannel             // the channel's snowflake
	holeUser                // the acting user's snowflake
	holeUserN               // the acting user's number, for names
	holeTime                // unix seconds, for TYPING_START
	holeContent             // a message's content: raw, pre-escaped JSON string bytes (see renderContent)
)

// holeVals are the values of one rendering of a template. The value of
// holeContent is unused: its bytes are passed to renderContent.
type holeVals [8]uint64

// template is a frame encoded once with holes: static parts alternate with
// holes, so rendering is a few appends with no JSON encoding.
type template struct {
	parts [][]byte
	holes []hole // len(holes) == len(parts)-1
}

var holeNames = map[string]hole{
	"S": holeSeq, "I": holeID, "G": holeGuild, "C": holeChannel,
	"U": holeUser, "N": holeUserN, "T": holeTime, "X": holeContent,
}

// mustTemplate parses a frame with holes written as {{S}}, {{I}} and so on.
func mustTemplate(src string) *template {
	t := &template{}
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			t.parts = append(t.parts, []byte(src))
			return t
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			panic("discordtest: unterminated template hole in " + src)
		}
		h, ok := holeNames[src[i+2:i+j]]
		if !ok {
			panic("discordtest: bad template hole in " + src)
		}
		t.parts = append(t.parts, []byte(src[:i]))
		t.holes = append(t.holes, h)
		src = src[i+j+2:]
	}
}

// render appends the frame with vals spliced in to dst. A content hole
// stays empty: use renderContent for templates with one.
func (t *template) render(dst []byte, vals *holeVals) []byte {
	return t.renderContent(dst, vals, nil)
}

// renderContent is render with content (the inside of a JSON string,
// already escaped) spliced into the content hole.
func (t *template) renderContent(dst []byte, vals *holeVals, content []byte) []byte {
	for i, h := range t.holes {
		dst = append(dst, t.parts[i]...)
		if h == holeContent {
			dst = append(dst, content...)
			continue
		}
		dst = strconv.AppendUint(dst, vals[h], 10)
	}
	return append(dst, t.parts[len(t.parts)-1]...)
}

const msgContent = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " +
	"incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation " +
	"ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit."

const memberJSON = `"member":{"roles":[],"nick":null,"avatar":null,"premium_since":null,"joined_at":"2023-03-14T15:09:26+00:00","pending":false,"deaf":false,"mute":false,"flags":0,"communication_disabled_until":null}`

const userJSON = `{"id":"{{U}}","username":"user{{N}}","discriminator":"0","global_name":"User {{N}}","avatar":null,"bot":false,"public_flags":0}`

// Traffic templates. MESSAGE_CREATE is about 1.1 KB, like a real one.
var (
	tplMessageCreate = mustTemplate(`{"t":"MESSAGE_CREATE","s":{{S}},"op":0,"d":{"type":0,"tts":false,` +
		`"timestamp":"2024-06-01T12:00:00.000000+00:00","pinned":false,"nonce":"{{I}}",` +
		`"mentions":[` + userJSON + `],"mention_roles":[],"mention_everyone":false,` +
		memberJSON + `,"id":"{{I}}","flags":0,"embeds":[],"edited_timestamp":null,` +
		`"content":"{{X}}","components":[],"channel_id":"{{C}}",` +
		`"author":` + userJSON + `,"attachments":[],"guild_id":"{{G}}"}}`)

	tplDMMessageCreate = mustTemplate(`{"t":"MESSAGE_CREATE","s":{{S}},"op":0,"d":{"type":0,"tts":false,` +
		`"timestamp":"2024-06-01T12:00:00.000000+00:00","pinned":false,"nonce":"{{I}}",` +
		`"mentions":[],"mention_roles":[],"mention_everyone":false,"id":"{{I}}","flags":0,"embeds":[],` +
		`"edited_timestamp":null,"content":"{{X}}","components":[],"channel_id":"{{C}}",` +
		`"author":` + userJSON + `,"attachments":[]}}`)

	tplMemberAdd = mustTemplate(`{"t":"GUILD_MEMBER_ADD","s":{{S}},"op":0,"d":{"user":` +
		`{"id":"{{I}}","username":"newcomer{{I}}","discriminator":"0","global_name":null,"avatar":null,"bot":false,"public_flags":0},` +
		`"roles":[],"nick":null,"avatar":null,"premium_since":null,"joined_at":"2024-06-01T12:00:00.000000+00:00",` +
		`"pending":false,"deaf":false,"mute":false,"flags":0,"communication_disabled_until":null,"guild_id":"{{G}}"}}`)

	tplReactionAdd = mustTemplate(`{"t":"MESSAGE_REACTION_ADD","s":{{S}},"op":0,"d":{"user_id":"{{U}}",` +
		`"type":0,"message_id":"{{I}}","message_author_id":"{{U}}",` + strings.Replace(memberJSON, `"roles"`, `"user":`+userJSON+`,"roles"`, 1) +
		`,"emoji":{"name":"` + reactionEmoji + `","id":null},"channel_id":"{{C}}","burst":false,"guild_id":"{{G}}"}}`)

	tplTypingStart = mustTemplate(`{"t":"TYPING_START","s":{{S}},"op":0,"d":{"user_id":"{{U}}","timestamp":{{T}},` +
		strings.Replace(memberJSON, `"roles"`, `"user":`+userJSON+`,"roles"`, 1) +
		`,"channel_id":"{{C}}","guild_id":"{{G}}"}}`)

	tplResumed = mustTemplate(`{"t":"RESUMED","s":{{S}},"op":0,"d":{"_trace":["[\"discordtest\",{\"micros\":0}]"]}}`)

	// tplMalformed is a dispatch cut off in the middle of its data: it names
	// a seq but is not valid JSON.
	tplMalformed = mustTemplate(`{"t":"MESSAGE_CREATE","s":{{S}},"op":0,"d":{"type":0,"id":"{{I}}","channel_id":"{{C}}","content":"trunc`)
)

// Frames that are not dispatches.
var (
	frameAck           = []byte(`{"t":null,"s":null,"op":11,"d":null}`)
	frameReconnect     = []byte(`{"t":null,"s":null,"op":7,"d":null}`)
	frameInvalidTrue   = []byte(`{"t":null,"s":null,"op":9,"d":true}`)
	frameInvalidFalse  = []byte(`{"t":null,"s":null,"op":9,"d":false}`)
	frameHeartbeatCall = []byte(`{"t":null,"s":null,"op":1,"d":null}`)
)

// dispatchPrefix starts a dispatch frame whose data is appended raw.
func dispatchFrame(dst []byte, event string, seq int64, data []byte) []byte {
	dst = append(dst, `{"t":"`...)
	dst = append(dst, event...)
	dst = append(dst, `","s":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"op":0,"d":`...)
	dst = append(dst, data...)
	return append(dst, '}')
}
