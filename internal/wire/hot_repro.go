package wire

import (
	"math"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// The reproductions of disgo's UnmarshalJSON methods on the hot path.
// Each follows its method line by line, decoding into the same local
// types (declared in hot_gen.go) with the hot decoder instead of the JSON
// engine. internal/hotgen records a hash of each method's source and
// refuses to generate when one changes, so that a reproduction is
// reviewed again with every disgo upgrade that touches its method. A
// value outside a reproduction's fast path goes to the method itself.

// decSnowflake reproduces (*snowflake.ID).UnmarshalJSON for a quoted
// string of decimal digits, as Discord sends every ID: strconv.Unquote
// leaves the digits as they are and strconv.ParseUint reads them, leading
// zeros included. Anything else (null, 0, a number when
// snowflake.AllowUnquoted is set, escapes, an overflow) is given to the
// method.
func (d *hotDecoder) decSnowflake(v *snowflake.ID) bool {
	p, i := d.p, d.i
	if i < len(p) && p[i] == '"' {
		if n, j, ok := leadingDigits(p, i+1); ok && j > i+1 && j < len(p) && p[j] == '"' {
			*v = snowflake.ID(n)
			d.i = j + 1
			return true
		}
	}
	raw, ok := d.raw()
	return ok && v.UnmarshalJSON(raw) == nil
}

// decTime reproduces (*time.Time).UnmarshalJSON for the RFC 3339 times
// Discord sends ("2026-11-25T18:11:42.357000+00:00"): it follows the
// standard library's parseRFC3339, the fast path of the
// parseStrictRFC3339 the method calls, with the same checks and the same
// location (time.Local when its offset at that instant is the time's,
// else a fixed zone; UTC for Z). Anything else, including what only the
// fallback to time.Parse would accept, is given to the method.
func (d *hotDecoder) decTime(v *time.Time) bool {
	if t, end, ok := rfc3339(d.p, d.i); ok {
		*v = t
		d.i = end
		return true
	}
	raw, ok := d.raw()
	return ok && v.UnmarshalJSON(raw) == nil
}

// rfc3339 parses the JSON string at p[i] as parseRFC3339 does, and returns
// the index past it; false when parseRFC3339 would fail or the string is
// anything but the time's plain characters.
func rfc3339(p []byte, i int) (time.Time, int, bool) {
	const short = len(`"2006-01-02T15:04:05Z"`)
	if len(p)-i < short || p[i] != '"' {
		return time.Time{}, 0, false
	}
	s := p[i+1:]
	yh, ok1 := twoDigits(s[0], s[1], 99)
	yl, ok2 := twoDigits(s[2], s[3], 99)
	month, ok3 := twoDigits(s[5], s[6], 12)
	day, ok4 := twoDigits(s[8], s[9], 31)
	hour, ok5 := twoDigits(s[11], s[12], 23)
	minute, ok6 := twoDigits(s[14], s[15], 59)
	sec, ok7 := twoDigits(s[17], s[18], 59)
	year := yh*100 + yl
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || day < 1 || day > daysIn(month, year) ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0, false
	}
	j, nsec := 19, 0
	if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
		n := j + 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		// parseNanoseconds: the first nine digits, scaled to nanoseconds.
		frac := s[j+1 : min(n, j+10)]
		for _, c := range frac {
			nsec = nsec*10 + int(c-'0')
		}
		for range 9 - len(frac) {
			nsec *= 10
		}
		j = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	switch {
	case j+1 < len(s) && s[j] == 'Z' && s[j+1] == '"':
		return t, i + 1 + j + 2, true
	case j+6 < len(s) && (s[j] == '+' || s[j] == '-') && s[j+3] == ':' && s[j+6] == '"':
		hr, okh := twoDigits(s[j+1], s[j+2], 23)
		mm, okm := twoDigits(s[j+4], s[j+5], 59)
		if !okh || !okm {
			return time.Time{}, 0, false
		}
		offset := (hr*60 + mm) * 60
		if s[j] == '-' {
			offset = -offset
		}
		t = t.Add(-time.Duration(offset) * time.Second)
		if lt := t.In(time.Local); zoneOffset(lt) == offset {
			t = lt
		} else {
			t = t.In(time.FixedZone("", offset))
		}
		return t, i + 1 + j + 7, true
	}
	return time.Time{}, 0, false
}

// zoneOffset is t's zone offset in seconds.
func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// twoDigits parses the decimal digits a and b, which must make at most hi.
func twoDigits(a, b byte, hi int) (int, bool) {
	x := int(a-'0')*10 + int(b-'0')
	return x, a >= '0' && a <= '9' && b >= '0' && b <= '9' && x <= hi
}

// daysIn is the number of days in month of year (the time package's).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// decNonce reproduces (*discord.Nonce).UnmarshalJSON for a string of
// printable ASCII without escapes, which strconv.Unquote returns as it
// is. Anything else (a number, escapes, UTF-8) is given to the method,
// whose Go unquoting differs from JSON's.
func (d *hotDecoder) decNonce(v *discord.Nonce) bool {
	p, i := d.p, d.i
	if i < len(p) && p[i] == '"' {
		j := i + 1
		for j < len(p) && plainTable[p[j]] {
			j++
		}
		if j < len(p) && p[j] == '"' {
			*v = discord.Nonce(p[i+1 : j])
			d.i = j + 1
			return true
		}
	}
	raw, ok := d.raw()
	return ok && v.UnmarshalJSON(raw) == nil
}

// decPermissions reproduces (*discord.Permissions).UnmarshalJSON for a
// quoted string of decimal digits that fits an int64 (strconv.ParseInt).
// Anything else is given to the method.
func (d *hotDecoder) decPermissions(v *discord.Permissions) bool {
	p, i := d.p, d.i
	if i < len(p) && p[i] == '"' {
		j := i + 1
		for j < len(p) && j-i <= 19 && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if j > i+1 && j < len(p) && p[j] == '"' {
			if n, ok := digits(p, i+1, j); ok && n <= math.MaxInt64 {
				*v = discord.Permissions(n)
				d.i = j + 1
				return true
			}
		}
	}
	raw, ok := d.raw()
	return ok && v.UnmarshalJSON(raw) == nil
}

// decMessage reproduces (*discord.Message).UnmarshalJSON and the
// unmarshalComponents it calls. Where unmarshalComponents would panic on
// a top-level component that is not a layout component, it declines, and
// the engine's path reports the panic as an error.
func (d *hotDecoder) decMessage(m *discord.Message) bool {
	var v hotMessageImage
	if !d.decHotMessageImage(&v) {
		return false
	}
	*m = discord.Message(v.hotMessageAlias)
	if len(v.Components) > 0 {
		c := make([]discord.LayoutComponent, len(v.Components))
		for i := range v.Components {
			lc, ok := v.Components[i].Component.(discord.LayoutComponent)
			if !ok {
				return false
			}
			c[i] = lc
		}
		m.Components = c
	}
	if m.Member != nil && m.GuildID != nil {
		m.Member.GuildID = *m.GuildID
	}
	return true
}

// decActivity reproduces (*discord.Activity).UnmarshalJSON.
func (d *hotDecoder) decActivity(a *discord.Activity) bool {
	var v hotActivityImage
	if !d.decHotActivityImage(&v) {
		return false
	}
	*a = discord.Activity(v.hotActivityAlias)
	a.CreatedAt = time.UnixMilli(v.CreatedAt)
	return true
}

// decActivityTimestamps reproduces (*discord.ActivityTimestamps).UnmarshalJSON.
func (d *hotDecoder) decActivityTimestamps(a *discord.ActivityTimestamps) bool {
	var v hotActivityTimestampsImage
	if !d.decHotActivityTimestampsImage(&v) {
		return false
	}
	a.Start = time.UnixMilli(v.Start)
	a.End = time.UnixMilli(v.End)
	return true
}

// decTypingStart reproduces (*gateway.EventTypingStart).UnmarshalJSON.
func (d *hotDecoder) decTypingStart(e *gateway.EventTypingStart) bool {
	var v hotTypingStartImage
	if !d.decHotTypingStartImage(&v) {
		return false
	}
	*e = gateway.EventTypingStart(v.hotTypingStartAlias)
	e.Timestamp = time.Unix(v.Timestamp, 0)
	return true
}

// decReactionAdd reproduces (*gateway.EventMessageReactionAdd).UnmarshalJSON.
func (d *hotDecoder) decReactionAdd(e *gateway.EventMessageReactionAdd) bool {
	var v hotReactionAddAlias
	if !d.decHotReactionAddAlias(&v) {
		return false
	}
	*e = gateway.EventMessageReactionAdd(v)
	if e.Member != nil && e.GuildID != nil {
		e.Member.GuildID = *e.GuildID
	}
	return true
}

// decInteractionCreate reproduces (*gateway.EventInteractionCreate).UnmarshalJSON
// and discord.UnmarshalInteraction for the five interaction types disgo
// knows. disgo's interactions keep their fields unexported, so only their
// own UnmarshalJSON can fill them: the hot decoder reads the type (the
// probe UnmarshalInteraction decodes through the engine first) while it
// checks the value, and calls that type's method on it, as
// UnmarshalInteraction's json.Unmarshal does. An unknown type is declined.
func (d *hotDecoder) decInteractionCreate(e *gateway.EventInteractionCreate) bool {
	start := d.i
	if !d.openObject() {
		return false
	}
	var typ discord.InteractionType
	var seen uint64
	for d.nextKey() {
		if string(d.key) == "type" {
			n, set, ok := d.integer(64)
			if !d.once(&seen, 1) || !ok {
				return false
			}
			if set {
				typ = discord.InteractionType(n)
			}
			continue
		}
		if string(d.foldedKey()) == "type" || !d.skip() {
			return false
		}
	}
	if d.bad {
		return false
	}
	data := d.p[start:d.i]
	var (
		interaction discord.Interaction
		err         error
	)
	switch typ {
	case discord.InteractionTypePing:
		v := discord.PingInteraction{}
		err = v.UnmarshalJSON(data)
		interaction = v
	case discord.InteractionTypeApplicationCommand:
		v := discord.ApplicationCommandInteraction{}
		err = v.UnmarshalJSON(data)
		interaction = v
	case discord.InteractionTypeComponent:
		v := discord.ComponentInteraction{}
		err = v.UnmarshalJSON(data)
		interaction = v
	case discord.InteractionTypeAutocomplete:
		v := discord.AutocompleteInteraction{}
		err = v.UnmarshalJSON(data)
		interaction = v
	case discord.InteractionTypeModalSubmit:
		v := discord.ModalSubmitInteraction{}
		err = v.UnmarshalJSON(data)
		interaction = v
	default:
		return false
	}
	if err != nil {
		return false
	}
	e.Interaction = interaction
	return true
}
