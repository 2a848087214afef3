package cache

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// memberRec is a discord.Member in 56 bytes plus one packed string. The
// guild ID is the group's, the role IDs are indices into the group's role
// table, the user's fields are flattened, asset hashes are 16 bytes of
// binary, and the fields that are rarely set live behind extra.
type memberRec struct {
	id       uint64 // the user's ID, the record's key
	joinedAt int64  // unix nanoseconds, when bitJoined
	blob     string // packed fields, see encodeMember
	extra    *memberExtra
	publicFl int32 // User.PublicFlags, unless extra.wide
	flags    int32 // Member.Flags, unless extra.wide
	bits     uint32
}

// Bits of memberRec.bits.
const (
	bitJoined   uint32 = 1 << iota
	bitRoles           // RoleIDs is non-nil (possibly empty)
	bitDiscZero        // discriminator is "0", not stored
	bitGlobalName
	bitNick
	bitAvatar       // user avatar
	bitMemberAvatar // guild avatar
	bitBot
	bitSystem
	bitDeaf
	bitMute
	bitPending
)

// memberExtra holds the fields that are rarely set, kept as disgo gave them
// (pointers are shared, as disgo's default cache shares them).
type memberExtra struct {
	guildID      snowflake.ID // Member.GuildID when it differs from the group
	userID       snowflake.ID // User.ID when it differs from the key
	idOverride   bool
	gidOverride  bool
	wide         bool // publicFlags and flags below are authoritative
	publicFlags  discord.UserFlags
	flags        discord.MemberFlags
	banner       *string
	premiumSince *time.Time
	timeoutUntil *time.Time
	decoration   *discord.AvatarDecorationData
	collectibles *discord.Collectibles
	userBanner   *string
	accentColor  *int
	userDecor    *discord.AvatarDecorationData
	userCollect  *discord.Collectibles
	primaryGuild *discord.PrimaryGuild
	farJoined    *time.Time // JoinedAt outside UnixNano's range
}

func (e *memberExtra) empty() bool { return *e == memberExtra{} }

// Asset hash encodings inside the blob.
const (
	hashRaw      = 0 // uvarint length + bytes
	hashHex      = 1 // 16 bytes: 32 lowercase hex digits
	hashAnimated = 2 // 16 bytes: "a_" + 32 lowercase hex digits
)

func isLowerHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendHash(b []byte, s string) []byte {
	kind, hex := byte(hashRaw), s
	switch {
	case isLowerHex32(s):
		kind = hashHex
	case len(s) == 34 && s[:2] == "a_" && isLowerHex32(s[2:]):
		kind, hex = hashAnimated, s[2:]
	}
	b = append(b, kind)
	if kind == hashRaw {
		return appendString(b, s)
	}
	for i := 0; i < 32; i += 2 {
		b = append(b, unhex(hex[i])<<4|unhex(hex[i+1]))
	}
	return b
}

// roleIndex returns the index of id in *table, appending it when absent.
func roleIndex(table *[]snowflake.ID, id snowflake.ID) int {
	for i, r := range *table {
		if r == id {
			return i
		}
	}
	*table = append(*table, id)
	return len(*table) - 1
}

func fitsInt32(v int) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }

// encodeMember encodes m, stored under the group groupID and the key id,
// into a record, interning its role IDs into *roles. scratch is a reusable
// buffer; the returned one should be kept for the next call. When prev is
// not nil and the packed fields are unchanged, prev's blob is reused and
// nothing is allocated for it.
//
// Blob layout, each part present as bits say: roles (uvarint count and
// uvarint indices), username, discriminator, global name, nick (each
// uvarint length and bytes), user avatar and guild avatar (hash encoding).
func encodeMember(groupID, id snowflake.ID, m *discord.Member, roles *[]snowflake.ID, prev *memberRec, scratch []byte) (memberRec, []byte) {
	r := memberRec{id: uint64(id)}
	u := &m.User
	var x memberExtra
	b := scratch[:0]
	if m.RoleIDs != nil {
		r.bits |= bitRoles
		b = binary.AppendUvarint(b, uint64(len(m.RoleIDs)))
		for _, rid := range m.RoleIDs {
			b = binary.AppendUvarint(b, uint64(roleIndex(roles, rid)))
		}
	}
	b = appendString(b, u.Username)
	if u.Discriminator == "0" {
		r.bits |= bitDiscZero
	} else {
		b = appendString(b, u.Discriminator)
	}
	if u.GlobalName != nil {
		r.bits |= bitGlobalName
		b = appendString(b, *u.GlobalName)
	}
	if m.Nick != nil {
		r.bits |= bitNick
		b = appendString(b, *m.Nick)
	}
	if u.Avatar != nil {
		r.bits |= bitAvatar
		b = appendHash(b, *u.Avatar)
	}
	if m.Avatar != nil {
		r.bits |= bitMemberAvatar
		b = appendHash(b, *m.Avatar)
	}
	if prev != nil && string(b) == prev.blob {
		r.blob = prev.blob
	} else {
		r.blob = string(b)
	}
	if m.JoinedAt != nil {
		if y := m.JoinedAt.Year(); y >= 1678 && y <= 2261 {
			r.bits |= bitJoined
			r.joinedAt = m.JoinedAt.UnixNano()
		} else {
			x.farJoined = m.JoinedAt // outside UnixNano's range: keep it as given
		}
	}
	setBit(&r.bits, bitBot, u.Bot)
	setBit(&r.bits, bitSystem, u.System)
	setBit(&r.bits, bitDeaf, m.Deaf)
	setBit(&r.bits, bitMute, m.Mute)
	setBit(&r.bits, bitPending, m.Pending)
	if fitsInt32(int(u.PublicFlags)) && fitsInt32(int(m.Flags)) {
		r.publicFl, r.flags = int32(u.PublicFlags), int32(m.Flags)
	} else {
		x.wide, x.publicFlags, x.flags = true, u.PublicFlags, m.Flags
	}
	if m.GuildID != groupID {
		x.gidOverride, x.guildID = true, m.GuildID
	}
	if u.ID != id {
		x.idOverride, x.userID = true, u.ID
	}
	x.banner, x.premiumSince, x.timeoutUntil = m.Banner, m.PremiumSince, m.CommunicationDisabledUntil
	x.decoration, x.collectibles = m.AvatarDecorationData, m.Collectibles
	x.userBanner, x.accentColor, x.userDecor = u.Banner, u.AccentColor, u.AvatarDecorationData
	x.userCollect, x.primaryGuild = u.Collectibles, u.PrimaryGuild
	if !x.empty() {
		e := x // only a member with rare fields pays for the allocation
		r.extra = &e
	}
	return r, b
}

func setBit(bits *uint32, bit uint32, on bool) {
	if on {
		*bits |= bit
	}
}

// memberBox holds the values a decoded Member points to, so that a decode
// makes one allocation for all of them.
type memberBox struct {
	roles        [4]snowflake.ID // RoleIDs' backing array when it has at most 4
	joined       time.Time
	globalName   string
	nick         string
	avatar       string
	memberAvatar string
}

// blobReader reads the blob sequentially.
type blobReader struct {
	s   string
	off int
}

func (r *blobReader) uvarint() uint64 {
	var v uint64
	var shift uint
	for {
		c := r.s[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
		shift += 7
	}
}

func (r *blobReader) str() string {
	n := int(r.uvarint())
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

const hexDigits = "0123456789abcdef"

// hash decodes one asset hash. A hex hash is appended to buf and returned
// as its bounds [start, end) in the grown buf; a raw one is returned as s,
// with start -1.
func (r *blobReader) hash(buf []byte) (s string, start, end int, out []byte) {
	kind := r.s[r.off]
	r.off++
	if kind == hashRaw {
		return r.str(), -1, -1, buf
	}
	start = len(buf)
	if kind == hashAnimated {
		buf = append(buf, 'a', '_')
	}
	for i := 0; i < 16; i++ {
		c := r.s[r.off+i]
		buf = append(buf, hexDigits[c>>4], hexDigits[c&0xf])
	}
	r.off += 16
	return "", start, len(buf), buf
}

// decode rebuilds the discord.Member stored in r under groupID, with role
// IDs resolved through roles. Cost: usually two allocations, one box for
// the pointed-to values and up to four role IDs, one string for the asset
// hashes; a member with more than four roles adds one.
func (r *memberRec) decode(groupID snowflake.ID, roles []snowflake.ID) discord.Member {
	var m discord.Member
	m.GuildID = groupID
	m.User.ID = snowflake.ID(r.id)
	br := blobReader{s: r.blob}
	var box *memberBox
	const boxed = bitJoined | bitGlobalName | bitNick | bitAvatar | bitMemberAvatar
	if r.bits&bitRoles != 0 {
		n := int(br.uvarint())
		if n <= len(box.roles) {
			box = new(memberBox)
			m.RoleIDs = box.roles[:n:n]
		} else {
			m.RoleIDs = make([]snowflake.ID, n)
		}
		for i := range n {
			m.RoleIDs[i] = roles[br.uvarint()]
		}
	}
	m.User.Username = br.str()
	m.User.Discriminator = "0"
	if r.bits&bitDiscZero == 0 {
		m.User.Discriminator = br.str()
	}
	if r.bits&boxed != 0 {
		if box == nil {
			box = new(memberBox)
		}
		r.decodeBoxed(&br, box, &m)
	}
	m.User.Bot = r.bits&bitBot != 0
	m.User.System = r.bits&bitSystem != 0
	m.Deaf = r.bits&bitDeaf != 0
	m.Mute = r.bits&bitMute != 0
	m.Pending = r.bits&bitPending != 0
	m.User.PublicFlags = discord.UserFlags(r.publicFl)
	m.Flags = discord.MemberFlags(r.flags)
	if x := r.extra; x != nil {
		x.apply(&m)
	}
	return m
}

// decodeBoxed reads the values a Member points to, which the bits say r
// has, from br into box, and points m at them.
func (r *memberRec) decodeBoxed(br *blobReader, box *memberBox, m *discord.Member) {
	if r.bits&bitGlobalName != 0 {
		box.globalName = br.str()
		m.User.GlobalName = &box.globalName
	}
	if r.bits&bitNick != 0 {
		box.nick = br.str()
		m.Nick = &box.nick
	}
	var hexArr [68]byte
	hexbuf := hexArr[:0]
	var s1, s2 string
	a1, e1, a2, e2 := -1, -1, -1, -1
	if r.bits&bitAvatar != 0 {
		s1, a1, e1, hexbuf = br.hash(hexbuf)
	}
	if r.bits&bitMemberAvatar != 0 {
		s2, a2, e2, hexbuf = br.hash(hexbuf)
	}
	hs := string(hexbuf)
	if r.bits&bitAvatar != 0 {
		if a1 >= 0 {
			s1 = hs[a1:e1]
		}
		box.avatar = s1
		m.User.Avatar = &box.avatar
	}
	if r.bits&bitMemberAvatar != 0 {
		if a2 >= 0 {
			s2 = hs[a2:e2]
		}
		box.memberAvatar = s2
		m.Avatar = &box.memberAvatar
	}
	if r.bits&bitJoined != 0 {
		box.joined = time.Unix(0, r.joinedAt).UTC()
		m.JoinedAt = &box.joined
	}
}

// apply sets the rare fields of m that e holds, over what the record's
// common fields gave.
func (e *memberExtra) apply(m *discord.Member) {
	if e.wide {
		m.User.PublicFlags, m.Flags = e.publicFlags, e.flags
	}
	if e.gidOverride {
		m.GuildID = e.guildID
	}
	if e.idOverride {
		m.User.ID = e.userID
	}
	if e.farJoined != nil {
		m.JoinedAt = e.farJoined
	}
	m.Banner, m.PremiumSince, m.CommunicationDisabledUntil = e.banner, e.premiumSince, e.timeoutUntil
	m.AvatarDecorationData, m.Collectibles = e.decoration, e.collectibles
	m.User.Banner, m.User.AccentColor, m.User.AvatarDecorationData = e.userBanner, e.accentColor, e.userDecor
	m.User.Collectibles, m.User.PrimaryGuild = e.userCollect, e.primaryGuild
}
