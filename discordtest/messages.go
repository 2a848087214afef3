package discordtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/snowflake/v2"
)

// PostedLimit is how many posted messages [Server.Posted] keeps: the most
// recent ones. [Counters].MessagesPosted counts them all.
const PostedLimit = 1024

// MaxMessageLength is Discord's limit on a message's content, in
// characters (Unicode code points), enforced by POST
// /channels/{id}/messages.
const MaxMessageLength = 2000

// maxBodyBytes bounds a REST request body.
const maxBodyBytes = 1 << 20

// PostedMessage is one message a client created with
// POST /api/v10/channels/{channel.id}/messages. It is a plain value.
type PostedMessage struct {
	ID        snowflake.ID // the snowflake the server gave the message
	ChannelID snowflake.ID
	GuildID   snowflake.ID // 0 for a DM channel
	Content   string
	ReplyTo   snowflake.ID // message_reference.message_id, or 0
	Timestamp time.Time    // when the server created it (the timestamp it answered)
}

// postedLog is the ring of the last PostedLimit posted messages.
type postedLog struct {
	n  atomic.Uint64 // message IDs handed out
	mu sync.Mutex
	// ring holds up to PostedLimit messages; head is the oldest once full.
	ring []PostedMessage
	head int
}

func (l *postedLog) add(m PostedMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < PostedLimit {
		l.ring = append(l.ring, m)
		return
	}
	l.ring[l.head] = m
	l.head = (l.head + 1) % PostedLimit
}

// Posted returns the most recent messages created through the REST API (at
// most [PostedLimit]), oldest first. The caller owns the slice. It is safe
// to call at any time; it copies up to PostedLimit small values.
func (s *Server) Posted() []PostedMessage {
	l := &s.posted
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]PostedMessage, 0, len(l.ring))
	out = append(out, l.ring[l.head:]...)
	return append(out, l.ring[:l.head]...)
}

// TextChannels returns the text channels of a guild of the fake, where
// traffic's MESSAGE_CREATEs happen and messages may be posted, in order; a
// guild configured without text channels takes messages in a channel with
// its own ID, which is then the only one returned. It returns nil for a
// guild the fake does not have.
func (s *Server) TextChannels(guildID snowflake.ID) []snowflake.ID {
	w := s.world
	n := int64(uint64(guildID)>>22) - guildBase
	if n < 0 || n >= int64(w.guilds) || w.guildID(int(n)) != guildID {
		return nil
	}
	if len(w.text) == 0 {
		return []snowflake.ID{guildID}
	}
	out := make([]snowflake.ID, len(w.text))
	for i, c := range w.text {
		out[i] = w.channelID(int(n), c)
	}
	return out
}

// channelOf resolves a channel ID of the world: the guild index (-1 for a
// DM channel) and the channel type. A guild without text channels takes
// messages in a channel with the guild's own ID, as traffic uses.
func (w *world) channelOf(id snowflake.ID) (guild, typ int, ok bool) {
	at := int64(uint64(id) >> 22)
	if n := at - channelBase; n >= 0 && n < int64(w.guilds*w.channels) {
		g, c := int(n)/w.channels, int(n)%w.channels
		if w.channelID(g, c) == id {
			return g, w.channelType(c), true
		}
	}
	if n := at - guildBase; len(w.text) == 0 && n >= 0 && n < int64(w.guilds) && w.guildID(int(n)) == id {
		return int(n), 0, true
	}
	if n := at - dmBase; n >= 0 && n < 1<<22 && makeID(dmBase, int(n)) == id {
		return -1, 1, true
	}
	return 0, 0, false
}

// createMessage is the part of a create-message body the server reads.
type createMessage struct {
	Content          string            `json:"content"`
	Nonce            json.RawMessage   `json:"nonce"`
	TTS              bool              `json:"tts"`
	Embeds           []json.RawMessage `json:"embeds"`
	Components       []json.RawMessage `json:"components"`
	StickerIDs       []snowflake.ID    `json:"sticker_ids"`
	MessageReference *struct {
		MessageID *snowflake.ID `json:"message_id"`
	} `json:"message_reference"`
}

type jsonMessageReference struct {
	Type      int           `json:"type"`
	MessageID snowflake.ID  `json:"message_id"`
	ChannelID snowflake.ID  `json:"channel_id"`
	GuildID   *snowflake.ID `json:"guild_id,omitempty"`
}

// jsonMessage is Discord's message object, as the REST API returns it.
type jsonMessage struct {
	ID               snowflake.ID          `json:"id"`
	Type             int                   `json:"type"`
	Content          string                `json:"content"`
	ChannelID        snowflake.ID          `json:"channel_id"`
	GuildID          *snowflake.ID         `json:"guild_id,omitempty"`
	Author           jsonUser              `json:"author"`
	Attachments      []struct{}            `json:"attachments"`
	Embeds           []json.RawMessage     `json:"embeds"`
	Mentions         []struct{}            `json:"mentions"`
	MentionRoles     []snowflake.ID        `json:"mention_roles"`
	MentionEveryone  bool                  `json:"mention_everyone"`
	Pinned           bool                  `json:"pinned"`
	TTS              bool                  `json:"tts"`
	Timestamp        time.Time             `json:"timestamp"`
	EditedTimestamp  *time.Time            `json:"edited_timestamp"`
	Flags            int                   `json:"flags"`
	Components       []json.RawMessage     `json:"components"`
	Nonce            json.RawMessage       `json:"nonce,omitempty"`
	MessageReference *jsonMessageReference `json:"message_reference,omitempty"`
}

// formError is Discord's 50035 "Invalid Form Body" with per-field errors.
type formError struct {
	Message string                        `json:"message"`
	Code    int                           `json:"code"`
	Errors  map[string]map[string][]field `json:"errors"`
}

type field struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// serveChannel serves /channels/{channel.id}/...: only POST .../messages.
func (s *Server) serveChannel(w http.ResponseWriter, r *http.Request, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	if sub != "messages" {
		serveNotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, restError{Message: "405: Method Not Allowed", Code: 0})
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, restError{Message: "401: Unauthorized", Code: 0})
		return
	}
	channelID, err := snowflake.Parse(id)
	guild, typ, ok := s.world.channelOf(channelID)
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, restError{Message: "Unknown Channel", Code: 10003})
		return
	}
	if typ == 4 {
		writeJSON(w, http.StatusBadRequest, restError{Message: "Cannot send messages in a non-text channel", Code: 50008})
		return
	}
	var body createMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&body); err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			writeJSON(w, http.StatusRequestEntityTooLarge, restError{Message: "Request entity too large", Code: 40005})
			return
		}
		writeJSON(w, http.StatusBadRequest, restError{Message: "The request body contains invalid JSON.", Code: 50109})
		return
	}
	if n := utf8.RuneCountInString(body.Content); n > MaxMessageLength {
		writeJSON(w, http.StatusBadRequest, formError{Message: "Invalid Form Body", Code: 50035,
			Errors: map[string]map[string][]field{"content": {"_errors": {{
				Code: "BASE_TYPE_MAX_LENGTH", Message: "Must be 2000 or fewer in length."}}}}})
		return
	}
	if body.Content == "" && len(body.Embeds) == 0 && len(body.Components) == 0 && len(body.StickerIDs) == 0 {
		writeJSON(w, http.StatusBadRequest, restError{Message: "Cannot send an empty message", Code: 50006})
		return
	}
	writeJSON(w, http.StatusOK, s.createMessage(channelID, guild, &body))
}

// createMessage records a message and returns its Discord shape.
func (s *Server) createMessage(channelID snowflake.ID, guild int, body *createMessage) jsonMessage {
	now := time.Now().UTC()
	// A snowflake of now, with the low 22 bits counting, so IDs are unique
	// and grow; their timestamps lie above every ID of the world's.
	id := snowflake.ID(uint64(snowflake.New(now)) | s.posted.n.Add(1)&0x3fffff)
	m := jsonMessage{
		ID:           id,
		Content:      body.Content,
		ChannelID:    channelID,
		Author:       s.world.botUser(),
		Attachments:  []struct{}{},
		Embeds:       body.Embeds,
		Mentions:     []struct{}{},
		MentionRoles: []snowflake.ID{},
		TTS:          body.TTS,
		Timestamp:    now,
		Components:   body.Components,
		Nonce:        body.Nonce,
	}
	if m.Embeds == nil {
		m.Embeds = []json.RawMessage{}
	}
	if m.Components == nil {
		m.Components = []json.RawMessage{}
	}
	pm := PostedMessage{ID: id, ChannelID: channelID, Content: body.Content, Timestamp: now}
	if guild >= 0 {
		gid := s.world.guildID(guild)
		m.GuildID, pm.GuildID = &gid, gid
	}
	if ref := body.MessageReference; ref != nil && ref.MessageID != nil {
		m.Type = 19 // REPLY
		m.MessageReference = &jsonMessageReference{MessageID: *ref.MessageID, ChannelID: channelID, GuildID: m.GuildID}
		pm.ReplyTo = *ref.MessageID
	}
	s.posted.add(pm)
	s.ctr.messagesPosted.Add(1)
	return m
}
