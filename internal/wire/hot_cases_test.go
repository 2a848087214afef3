package wire

import (
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// hotWant says what the hot decoder must do with a case: take it (equal to
// encoding/json), decline it (the engine decodes it, or rejects it), or
// either.
type hotWant int

const (
	takes hotWant = iota
	declines
	either
)

type hotCase struct {
	name string
	t    gateway.EventType
	d    string
	want hotWant
}

// msg is a small MESSAGE_CREATE with extra members.
func msg(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"id":"1100000020971823819","channel_id":"1100000000841108452","guild_id":"1100000000005552557"` + extra + `}`
}

const (
	hotUser   = `{"id":"1100000004202473939","username":"user_1","global_name":"User 1","discriminator":"0","avatar":"a_1269e74af4df7417b13759eae50c83dc","public_flags":64,"bot":false,"avatar_decoration_data":{"asset":"a_13","sku_id":"1144058522808614923"},"clan":null,"primary_guild":{"identity_guild_id":"1","identity_enabled":true,"tag":"MEG","badge":"b"}}`
	hotMember = `{"roles":["1100000001261021417","1100000001262688031"],"premium_since":"2024-01-02T03:04:05.678+00:00","pending":false,"nick":"Nicky","mute":false,"joined_at":"2021-03-14T09:26:53.120000+00:00","flags":2,"deaf":false,"communication_disabled_until":"2030-01-01T00:00:00+00:00","banner":null,"avatar":"abc"}`
	hotEmbed  = `{"type":"rich","title":"T","description":"D \u00e9","url":"https://x","timestamp":"2026-11-25T18:11:42.357+00:00","color":16711680,` +
		`"footer":{"text":"f","icon_url":"https://i","proxy_icon_url":"https://p"},"image":{"url":"https://img","proxy_url":"https://p","height":10,"width":20,"flags":0},` +
		`"thumbnail":{"url":"https://t","width":1,"height":2},"video":{"url":"https://v","width":3,"height":4},"provider":{"name":"P","url":"https://pr"},` +
		`"author":{"name":"A","url":"https://a","icon_url":"https://ai"},"fields":[{"name":"n","value":"v","inline":true},{"name":"n2","value":"v2"}],"flags":32}`
)

var hotCases = []hotCase{
	// The shapes of a message.
	{"empty object", gateway.EventTypeMessageCreate, `{}`, takes},
	{"null", gateway.EventTypeMessageCreate, `null`, takes},
	{"nulls", gateway.EventTypeMessageCreate, msg(`"member":null,"edited_timestamp":null,"nonce":null,"content":null,"mentions":null,"embeds":null,"components":null,"type":null,"tts":null,"author":null,"referenced_message":null,"position":null,"flags":null,"mention_roles":null,"attachments":null,"timestamp":null`), takes},
	{"null ids", gateway.EventTypeMessageCreate, `{"id":null,"channel_id":null,"guild_id":null,"webhook_id":null}`, takes},
	{"empty arrays", gateway.EventTypeMessageCreate, msg(`"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"components":[],"sticker_items":[],"reactions":[],"mention_channels":[],"message_snapshots":[]`), takes},
	{"realistic head", gateway.EventTypeMessageCreate, msg(`"type":0,"tts":false,"timestamp":"2026-11-25T18:11:42.357000+00:00","pinned":false,"nonce":"1310723897436160000","mention_everyone":true,"flags":4,"content":"hi","author":` + hotUser + `,"member":` + hotMember + `,"channel_type":0`), takes},
	{"unicode escapes", gateway.EventTypeMessageCreate, msg(`"content":"caf\u00e9 \u65e5\u672c \ud83d\udc4d \"q\" \\ \/ \b\f\n\r\t \u0000 \u2028"`), takes},
	{"lone high surrogate", gateway.EventTypeMessageCreate, msg(`"content":"\ud83d x"`), takes},
	{"lone low surrogate", gateway.EventTypeMessageCreate, msg(`"content":"\udc4d"`), takes},
	{"reversed surrogates", gateway.EventTypeMessageCreate, msg(`"content":"\udc4d\ud83d"`), takes},
	{"high surrogate then letter", gateway.EventTypeMessageCreate, msg(`"content":"\ud83d\u0041"`), takes},
	{"high surrogate at the end", gateway.EventTypeMessageCreate, msg(`"content":"x\ud83d"`), takes},
	{"raw UTF-8", gateway.EventTypeMessageCreate, msg(`"content":"naïve — 日本語 👍🏽 👩‍💻"`), takes},
	{"invalid UTF-8", gateway.EventTypeMessageCreate, msg("\"content\":\"a\xff\xfeb\xed\xa0\x80c\xc3\""), takes},
	{"raw control byte", gateway.EventTypeMessageCreate, msg("\"content\":\"a\x01b\""), declines},
	{"raw newline", gateway.EventTypeMessageCreate, msg("\"content\":\"a\nb\""), declines},
	{"bad escape", gateway.EventTypeMessageCreate, msg(`"content":"\x41"`), declines},
	{"short unicode escape", gateway.EventTypeMessageCreate, msg(`"content":"\u12"`), declines},
	{"long string", gateway.EventTypeMessageCreate, msg(`"content":"` + strings.Repeat("abcdefgh", 300) + `"`), takes},

	// Snowflakes.
	{"largest snowflake", gateway.EventTypeMessageCreate, `{"id":"18446744073709551615","channel_id":"99999999999999999999"}`, either},
	{"snowflake overflow", gateway.EventTypeMessageCreate, `{"id":"18446744073709551616"}`, declines},
	{"snowflake 20 digits overflow", gateway.EventTypeMessageCreate, `{"id":"20000000000000000000"}`, declines},
	{"snowflake zero string", gateway.EventTypeMessageCreate, `{"id":"0"}`, takes},
	{"snowflake leading zeros", gateway.EventTypeMessageCreate, `{"id":"000000000000000000000000001","channel_id":"007"}`, takes},
	{"snowflake empty", gateway.EventTypeMessageCreate, `{"id":""}`, declines},
	{"snowflake number", gateway.EventTypeMessageCreate, `{"id":1100000020971823819}`, declines},
	{"snowflake number zero", gateway.EventTypeMessageCreate, `{"id":0}`, takes},
	{"snowflake negative", gateway.EventTypeMessageCreate, `{"id":"-1"}`, declines},
	{"snowflake exponent", gateway.EventTypeMessageCreate, `{"id":"1e3"}`, declines},
	{"snowflake escaped digit", gateway.EventTypeMessageCreate, `{"id":"\u0031\u0032"}`, takes},
	{"snowflake bool", gateway.EventTypeMessageCreate, `{"id":true}`, declines},
	{"snowflake pointer number", gateway.EventTypeMessageCreate, `{"guild_id":5}`, declines},
	{"snowflake list with null", gateway.EventTypeMessageCreate, msg(`"mention_roles":[null,"1","0",0]`), takes},

	// Timestamps.
	{"time Z", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42Z"`), takes},
	{"time fraction and offset", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42.1+05:30"`), takes},
	{"time nanoseconds, negative offset", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42.123456789-08:00"`), takes},
	{"time zero offset", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42+00:00","edited_timestamp":"2026-11-25T18:11:42.000000+00:00"`), takes},
	{"time leap day", gateway.EventTypeMessageCreate, msg(`"timestamp":"2028-02-29T23:59:59.999Z"`), takes},
	{"time invalid day", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-02-30T00:00:00Z"`), declines},
	{"time with a space", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25 18:11:42Z"`), declines},
	{"time number", gateway.EventTypeMessageCreate, msg(`"timestamp":12`), declines},
	{"time escaped", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42\u005a"`), declines},
	{"time many fraction digits", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42.1234567891234Z"`), takes},
	{"time fraction without digits", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42.Z"`), declines},
	{"time comma fraction", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42,5Z"`), either},
	{"time lower case", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25t18:11:42z"`), either},
	{"time largest offset", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42+23:59","edited_timestamp":"0000-01-01T00:00:00-00:00"`), takes},
	{"time offset hour 24", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42+24:00"`), either},
	{"time hour 24", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T24:00:00Z"`), declines},
	{"time second 60", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T23:59:60Z"`), declines},
	{"time no zone", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T18:11:42"`), declines},
	{"time short", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-2"`), declines},
	{"time not leap", gateway.EventTypeMessageCreate, msg(`"timestamp":"2100-02-29T00:00:00Z"`), declines},
	{"time single-digit hour", gateway.EventTypeMessageCreate, msg(`"timestamp":"2026-11-25T8:11:42Z"`), either},

	// Numbers.
	{"type reply", gateway.EventTypeMessageCreate, msg(`"type":19,"position":-3,"flags":4096`), takes},
	{"type fraction", gateway.EventTypeMessageCreate, msg(`"type":1.5`), declines},
	{"type exponent", gateway.EventTypeMessageCreate, msg(`"type":1e2`), declines},
	{"type string", gateway.EventTypeMessageCreate, msg(`"type":"1"`), declines},
	{"type leading zero", gateway.EventTypeMessageCreate, msg(`"type":01`), declines},
	{"type minus zero", gateway.EventTypeMessageCreate, msg(`"type":-0`), takes},
	{"type overflow", gateway.EventTypeMessageCreate, msg(`"type":9223372036854775808`), declines},
	{"type min int", gateway.EventTypeMessageCreate, msg(`"type":-9223372036854775808`), takes},
	{"bad literal", gateway.EventTypeMessageCreate, msg(`"tts":tru`), declines},
	{"brace where a comma belongs", gateway.EventTypeMessageCreate, msg(`"content":"x"{}`), declines},
	{"brace and key where a comma belongs", gateway.EventTypeMessageCreate, msg(`"content":"x"{"tts":true}`), declines},
	{"brace after an unknown member", gateway.EventTypeMessageCreate, `{"embeds":[{"video":{"000":"00"{}}]}`, declines},
	{"bracket where a comma belongs", gateway.EventTypeMessageCreate, msg(`"mention_roles":["1"["2"]]`), declines},
	{"bracket after an object element", gateway.EventTypeMessageCreate, msg(`"embeds":[{}[]]`), declines},
	{"bool as number", gateway.EventTypeMessageCreate, msg(`"tts":1`), declines},

	// What the hot decoder leaves to the engine.
	{"repeated member", gateway.EventTypeMessageCreate, `{"id":"1","id":"2"}`, declines},
	{"repeated object", gateway.EventTypeMessageCreate, `{"author":{"id":"1"},"author":{"username":"u"}}`, declines},
	{"key in upper case", gateway.EventTypeMessageCreate, `{"ID":"1"}`, declines},
	// nonce and poll are past the first 30 members of a message, which
	// its decoder's helper takes (internal/hotgen's membersInline).
	{"repeated member past the first 30", gateway.EventTypeMessageCreate, msg(`"nonce":"1","nonce":"2"`), declines},
	{"repeated member either side of 30", gateway.EventTypeMessageCreate, msg(`"nonce":"1","content":"x","poll":null,"content":"y"`), declines},
	{"member past the first 30 in upper case", gateway.EventTypeMessageCreate, msg(`"NONCE":"1"`), declines},
	{"members past the first 30", gateway.EventTypeMessageCreate, msg(`"content":"x","nonce":7,"position":3,"poll":null,"shared_client_theme":null,"channel_type":0`), takes},
	{"key in title case", gateway.EventTypeMessageCreate, `{"Content":"x"}`, declines},
	{"escaped key", gateway.EventTypeMessageCreate, `{"\u0069d":"1"}`, declines},
	{"Kelvin sign key", gateway.EventTypeMessageCreate, `{"\u212aey":"x","pinned":true}`, declines},
	{"non-ASCII key", gateway.EventTypeMessageCreate, `{"ſtuff":1}`, declines},
	{"deep unknown member", gateway.EventTypeMessageCreate, `{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, declines},
	{"top-level button", gateway.EventTypeMessageCreate, msg(`"components":[{"type":2,"style":1,"label":"x","custom_id":"c"}]`), declines},
	{"unknown component", gateway.EventTypeMessageCreate, msg(`"components":[{"type":99}]`), takes},

	// Unknown members are skipped, but checked.
	{"unknown members", gateway.EventTypeMessageCreate, msg(`"x_unknown":{"a":[1,2.5e-3,{"b":null}],"c":"\u00e9\n","d":[true,false,-0]},"channel_type":0,"z":""`), takes},
	{"unknown member malformed", gateway.EventTypeMessageCreate, msg(`"x":[1,]`), declines},
	{"unknown member bad number", gateway.EventTypeMessageCreate, msg(`"x":-`), declines},
	{"unknown member bad string", gateway.EventTypeMessageCreate, msg(`"x":"\q"`), declines},
	{"whitespace", gateway.EventTypeMessageCreate, " \t\r\n{ \"id\" : \"1\" ,\n\"content\"\t:\t\"x\" , \"mentions\" : [ ] , \"embeds\" : [ " + hotEmbed + " ] } \n", takes},
	{"trailing comma", gateway.EventTypeMessageCreate, `{"id":"1",}`, declines},
	{"missing colon", gateway.EventTypeMessageCreate, `{"id" "1"}`, declines},
	{"two values", gateway.EventTypeMessageCreate, `{"id":"1"} {}`, declines},
	{"unterminated", gateway.EventTypeMessageCreate, `{"id":"1"`, declines},
	{"array for object", gateway.EventTypeMessageCreate, `[]`, declines},
	{"string for object", gateway.EventTypeMessageCreate, msg(`"author":"x"`), declines},
	{"object for array", gateway.EventTypeMessageCreate, msg(`"mentions":{}`), declines},

	// Nested values.
	{"referenced message", gateway.EventTypeMessageCreate, msg(`"type":19,"message_reference":{"type":0,"message_id":"5","channel_id":"6","guild_id":"7","fail_if_not_exists":false},` +
		`"referenced_message":{"id":"5","content":"parent","author":` + hotUser + `,"timestamp":"2026-11-25T18:11:42Z","referenced_message":{"id":"4","content":"grandparent","referenced_message":null,"mentions":[` + hotUser + `]}}`), takes},
	{"embeds", gateway.EventTypeMessageCreate, msg(`"embeds":[` + hotEmbed + `,{"type":"image","url":"https://u"}]`), takes},
	{"attachments", gateway.EventTypeMessageCreate, msg(`"attachments":[{"id":"1","filename":"a b.png","title":"t","description":"d","size":12,"url":"https://u","proxy_url":"https://p","height":10,"width":20,"content_type":"image/png","ephemeral":true,"duration_secs":1.5,"waveform":"AAA=","flags":4},{"id":"2","filename":"b","size":0,"url":"","proxy_url":"","height":null,"width":null}]`), takes},
	{"components", gateway.EventTypeMessageCreate, msg(`"components":[{"type":1,"id":1,"components":[{"type":2,"id":2,"style":1,"label":"x","custom_id":"c","emoji":{"name":"👍"}},{"type":2,"style":5,"label":"l","url":"https://x"}]},{"type":1,"components":[{"type":3,"custom_id":"s","options":[{"label":"a","value":"a"}],"min_values":1,"max_values":1}]}]`), takes},
	{"stickers", gateway.EventTypeMessageCreate, msg(`"sticker_items":[{"id":"1","name":"s","format_type":1},{"id":"2","name":"t","format_type":4}]`), takes},
	{"mentions", gateway.EventTypeMessageCreate, msg(`"mentions":[` + hotUser + `,{"id":"2","username":"v","discriminator":"1234","member":` + hotMember + `}],"mention_roles":["1","2"],"mention_channels":[{"id":"1","guild_id":"2","type":0,"name":"c"}]`), takes},
	{"member", gateway.EventTypeMessageCreate, msg(`"member":` + hotMember + `,"author":` + hotUser), takes},
	{"member without guild", gateway.EventTypeMessageCreate, `{"id":"1","member":` + hotMember + `}`, takes},
	{"thread", gateway.EventTypeMessageCreate, msg(`"thread":{"id":"3","type":11,"name":"t","guild_id":"1100000000005552557","parent_id":"4","owner_id":"5","last_message_id":null,"message_count":2,"member_count":1,"rate_limit_per_user":0,"flags":0,"total_message_sent":2,"thread_metadata":{"archived":false,"auto_archive_duration":1440,"archive_timestamp":"2026-11-25T18:11:42.357000+00:00","locked":false},"member":{"id":"3","user_id":"5","join_timestamp":"2026-11-25T18:11:42Z","flags":1}}`), takes},
	{"nonce number", gateway.EventTypeMessageCreate, msg(`"nonce":1310723897436160000`), takes},
	{"nonce escaped", gateway.EventTypeMessageCreate, msg(`"nonce":"a\u00e9\n"`), takes},
	{"nonce UTF-8", gateway.EventTypeMessageCreate, msg(`"nonce":"日本"`), takes},
	{"nonce slash escape", gateway.EventTypeMessageCreate, msg(`"nonce":"a\/b"`), declines},
	{"nonce bool", gateway.EventTypeMessageCreate, msg(`"nonce":true`), declines},
	{"poll", gateway.EventTypeMessageCreate, msg(`"poll":{"question":{"text":"q"},"answers":[{"answer_id":1,"poll_media":{"text":"a","emoji":{"id":null,"name":"👍"}}}],"expiry":"2026-11-26T18:11:42.357000+00:00","allow_multiselect":false,"layout_type":1,"results":{"is_finalized":false,"answer_counts":[{"id":1,"count":3,"me_voted":true}]}}`), takes},
	{"snapshots", gateway.EventTypeMessageCreate, msg(`"message_reference":{"type":1,"message_id":"5","channel_id":"6"},"message_snapshots":[{"message":{"type":0,"content":"fwd","embeds":[],"attachments":[],"timestamp":"2026-11-25T18:11:42.357000+00:00","edited_timestamp":null,"flags":0,"mentions":[],"mention_roles":[]}}]`), takes},
	{"interaction metadata", gateway.EventTypeMessageCreate, msg(`"webhook_id":"9","application_id":"8","interaction_metadata":{"id":"1","type":2,"user":` + hotUser + `,"authorizing_integration_owners":{"0":"1"},"name":"cmd","command_type":1},"interaction":{"id":"1","type":2,"name":"cmd","user":` + hotUser + `}`), takes},
	{"activity and application", gateway.EventTypeMessageCreate, msg(`"activity":{"type":1,"party_id":"p"},"application":{"id":"1","name":"app","description":"d","icon":null,"cover_image":"c"}`), takes},
	{"reactions", gateway.EventTypeMessageCreate, msg(`"reactions":[{"count":2,"count_details":{"burst":0,"normal":2},"me":true,"me_burst":false,"emoji":{"id":null,"name":"👍"},"burst_colors":["#ffffff"]}]`), takes},
	{"call and theme", gateway.EventTypeMessageCreate, msg(`"call":{"participants":["1","2"],"ended_timestamp":null},"role_subscription_data":{"role_subscription_listing_id":"1","tier_name":"t","total_months_subscribed":3,"is_renewal":true}`), takes},
	{"resolved", gateway.EventTypeMessageCreate, msg(`"resolved":{"users":{"1":{"id":"1","username":"u"}},"members":{"1":{"roles":[],"joined_at":"2021-03-14T09:26:53.120000+00:00"}}}`), takes},

	{"message update", gateway.EventTypeMessageUpdate, msg(`"content":"edited","edited_timestamp":"2026-11-25T18:12:00.000000+00:00","embeds":[` + hotEmbed + `],"author":` + hotUser), takes},
	{"message update partial", gateway.EventTypeMessageUpdate, `{"id":"1","channel_id":"2","embeds":[]}`, takes},
	{"message delete", gateway.EventTypeMessageDelete, `{"id":"1","channel_id":"2"}`, takes},
	{"message delete in guild", gateway.EventTypeMessageDelete, `{"id":"1","channel_id":"2","guild_id":"3","x":[1]}`, takes},
	{"message delete null guild", gateway.EventTypeMessageDelete, `{"id":"1","channel_id":"2","guild_id":null}`, takes},

	{"reaction add", gateway.EventTypeMessageReactionAdd, `{"user_id":"1","type":0,"message_id":"2","message_author_id":"3","member":` + hotMember + `,"emoji":{"name":"👍","id":null},"channel_id":"4","burst":false,"guild_id":"5","burst_colors":[]}`, takes},
	{"reaction add member, no guild", gateway.EventTypeMessageReactionAdd, `{"user_id":"1","member":` + hotMember + `,"emoji":{"name":"x","id":"7","animated":true}}`, takes},
	{"reaction add burst", gateway.EventTypeMessageReactionAdd, `{"user_id":"1","type":1,"burst":true,"burst_colors":["#ff0000","#00ff00"],"emoji":{"id":"8","name":"e"},"guild_id":"5"}`, takes},
	{"reaction add null", gateway.EventTypeMessageReactionAdd, `null`, takes},
	{"reaction remove", gateway.EventTypeMessageReactionRemove, `{"user_id":"1","type":0,"message_id":"2","emoji":{"name":"👍","id":null},"channel_id":"4","burst":false,"guild_id":"5"}`, takes},

	{"typing", gateway.EventTypeTypingStart, `{"user_id":"1","timestamp":1732550000,"channel_id":"2","guild_id":"3","member":` + hotMember + `}`, takes},
	{"typing DM", gateway.EventTypeTypingStart, `{"user_id":"1","timestamp":-5,"channel_id":"2"}`, takes},
	{"typing no timestamp", gateway.EventTypeTypingStart, `{"user_id":"1"}`, takes},
	{"typing null timestamp", gateway.EventTypeTypingStart, `{"user_id":"1","timestamp":null,"user":` + hotUser + `}`, takes},
	{"typing fraction", gateway.EventTypeTypingStart, `{"timestamp":1.5}`, declines},
	{"typing timestamp string", gateway.EventTypeTypingStart, `{"timestamp":"2026-11-25T18:11:42Z"}`, declines},

	{"presence", gateway.EventTypePresenceUpdate, `{"user":{"id":"1","username":"u","avatar":null},"status":"dnd","guild_id":"2","client_status":{"desktop":"dnd","mobile":"idle","web":"online"},"activities":[` +
		`{"id":"spotify:1","name":"Spotify","type":2,"created_at":1732550000000,"timestamps":{"start":1732550000000,"end":1732550200000},"sync_id":"s","state":"st","details":"de","party":{"id":"spotify:1","size":[1,5]},"assets":{"large_image":"li","large_text":"lt"},"flags":48,"application_id":"123"},` +
		`{"name":"Custom Status","type":4,"state":"hi","emoji":{"name":"🎉"},"created_at":1},` +
		`{"name":"Game","type":0,"application_id":367827983903490050,"timestamps":{"start":1},"buttons":["a","b"],"instance":true,"secrets":{"join":"j"},"status_display_type":1}]}`, takes},
	{"presence application id string number", gateway.EventTypePresenceUpdate, `{"activities":[{"name":"n","type":0,"application_id":"1.5e3"}]}`, takes},
	{"presence application id not a number", gateway.EventTypePresenceUpdate, `{"activities":[{"name":"n","type":0,"application_id":"abc"}]}`, declines},
	{"presence application id empty", gateway.EventTypePresenceUpdate, `{"activities":[{"name":"n","type":0,"application_id":""}]}`, declines},
	{"presence party size", gateway.EventTypePresenceUpdate, `{"activities":[{"name":"n","type":0,"party":{"size":[1,2,3]}},{"name":"m","type":0,"party":{"size":[7]}}]}`, takes},
	{"presence no activities", gateway.EventTypePresenceUpdate, `{"user":{"id":"1"},"status":"offline","activities":[]}`, takes},

	{"member add", gateway.EventTypeGuildMemberAdd, strings.TrimSuffix(hotMember, "}") + `,"guild_id":"2","user":` + hotUser + `}`, takes},
	{"member update", gateway.EventTypeGuildMemberUpdate, `{"guild_id":"2","roles":[],"user":` + hotUser + `,"nick":null,"avatar":null,"joined_at":null,"premium_since":null,"flags":0,"pending":true,"communication_disabled_until":null}`, takes},
	{"member update bad time", gateway.EventTypeGuildMemberUpdate, `{"guild_id":"2","joined_at":"yesterday"}`, declines},

	{"voice state", gateway.EventTypeVoiceStateUpdate, `{"member":` + strings.TrimSuffix(hotMember, "}") + `,"user":` + hotUser + `},"user_id":"1","suppress":false,"session_id":"s","self_video":false,"self_stream":true,"self_mute":true,"self_deaf":false,"request_to_speak_timestamp":"2026-11-25T18:11:42Z","mute":false,"guild_id":"2","deaf":false,"channel_id":"3"}`, takes},
	{"voice state leave", gateway.EventTypeVoiceStateUpdate, `{"guild_id":"2","channel_id":null,"user_id":"1","session_id":"abc","request_to_speak_timestamp":null}`, takes},

	{"ping interaction", gateway.EventTypeInteractionCreate, `{"id":"1","application_id":"2","type":1,"token":"t","version":1}`, takes},
	{"slash command", gateway.EventTypeInteractionCreate, `{"id":"1","application_id":"2","type":2,"token":"t","version":1,"guild_id":"3","channel_id":"4","channel":{"id":"4","type":0,"guild_id":"3","name":"c","permissions":"8"},` +
		`"member":` + strings.TrimSuffix(hotMember, "}") + `,"user":` + hotUser + `,"permissions":"2147483647"},"app_permissions":"8","locale":"en-US","guild_locale":"fr","entitlements":[],"authorizing_integration_owners":{"0":"3"},"context":0,"attachment_size_limit":8388608,` +
		`"data":{"id":"5","name":"cmd","type":1,"options":[{"name":"o","type":3,"value":"v"}]}}`, takes},
	{"button", gateway.EventTypeInteractionCreate, `{"id":"1","application_id":"2","type":3,"token":"t","version":1,"channel":{"id":"4","type":1},"user":` + hotUser + `,"data":{"component_type":2,"custom_id":"c"},"message":` + msg(`"content":"m"`) + `}`, takes},
	{"autocomplete", gateway.EventTypeInteractionCreate, `{"id":"1","application_id":"2","type":4,"token":"t","version":1,"channel":{"id":"4","type":1},"user":` + hotUser + `,"data":{"id":"5","name":"cmd","type":1,"options":[{"name":"o","type":3,"value":"v","focused":true}]}}`, takes},
	{"modal submit", gateway.EventTypeInteractionCreate, `{"id":"1","application_id":"2","type":5,"token":"t","version":1,"channel":{"id":"4","type":1},"user":` + hotUser + `,"data":{"custom_id":"m","components":[{"type":1,"components":[{"type":4,"custom_id":"i","value":"v"}]}]}}`, takes},
	{"unknown interaction", gateway.EventTypeInteractionCreate, `{"id":"1","type":99}`, declines},
	{"interaction without type", gateway.EventTypeInteractionCreate, `{"id":"1"}`, declines},
	{"interaction type twice", gateway.EventTypeInteractionCreate, `{"type":2,"type":1,"id":"1"}`, declines},
	{"interaction type folded", gateway.EventTypeInteractionCreate, `{"Type":1,"id":"1"}`, declines},
	{"interaction null", gateway.EventTypeInteractionCreate, `null`, declines},
}

func TestHotEdgeCases(t *testing.T) {
	t.Parallel()
	requireStdJSON(t)
	for _, c := range hotCases {
		t.Run(string(c.t)+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			ok := checkHot(t, c.t, []byte(c.d))
			switch {
			case c.want == takes && !ok:
				t.Errorf("declined; want it taken")
			case c.want == declines && ok:
				t.Errorf("taken; want it declined")
			}
		})
	}
}

// TestHotTimeZones checks the times the hot decoder reads under several
// local zones: parseRFC3339 gives time.Local to a time whose offset is
// the local one at that instant, and a fixed zone to the others. It sets
// time.Local, so it is not parallel (the parallel tests wait for it).
func TestHotTimeZones(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	zones := []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("IST", 5*3600+1800), time.FixedZone("", -8*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny) // daylight saving time: the offset depends on the instant
	}
	times := []string{"2026-11-25T18:11:42.357000+00:00", "2026-07-01T12:00:00+01:00", "2026-11-25T18:11:42+05:30",
		"2026-03-08T06:59:59-05:00", "2026-03-08T07:00:00-04:00", "2026-07-04T00:00:00-04:00", "2026-11-25T18:11:42Z", "2026-11-25T18:11:42-08:00"}
	for _, z := range zones {
		time.Local = z
		for _, ts := range times {
			d := []byte(msg(`"timestamp":"` + ts + `","edited_timestamp":"` + ts + `"`))
			if !checkHot(t, gateway.EventTypeMessageCreate, d) {
				t.Errorf("%v: %s declined", z, ts)
			}
		}
	}
}
