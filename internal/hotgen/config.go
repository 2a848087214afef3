package main

import (
	"reflect"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// root is one hot event: the gateway constant of its type and the struct
// disgo's gateway.UnmarshalEventData decodes its data into.
type root struct {
	constant string
	typ      reflect.Type
}

// roots are the events the hot decoder covers, Discord's most frequent.
var roots = []root{
	{"EventTypeMessageCreate", reflect.TypeFor[gateway.EventMessageCreate]()},
	{"EventTypeMessageUpdate", reflect.TypeFor[gateway.EventMessageUpdate]()},
	{"EventTypeMessageDelete", reflect.TypeFor[gateway.EventMessageDelete]()},
	{"EventTypeMessageReactionAdd", reflect.TypeFor[gateway.EventMessageReactionAdd]()},
	{"EventTypeMessageReactionRemove", reflect.TypeFor[gateway.EventMessageReactionRemove]()},
	{"EventTypeTypingStart", reflect.TypeFor[gateway.EventTypingStart]()},
	{"EventTypePresenceUpdate", reflect.TypeFor[gateway.EventPresenceUpdate]()},
	{"EventTypeGuildMemberAdd", reflect.TypeFor[gateway.EventGuildMemberAdd]()},
	{"EventTypeGuildMemberUpdate", reflect.TypeFor[gateway.EventGuildMemberUpdate]()},
	{"EventTypeInteractionCreate", reflect.TypeFor[gateway.EventInteractionCreate]()},
	{"EventTypeVoiceStateUpdate", reflect.TypeFor[gateway.EventVoiceStateUpdate]()},
}

// reproduction is a type with its own UnmarshalJSON that package wire
// decodes by hand (hot_repro.go) instead of calling that method: the
// method would decode the whole value again through the JSON engine, or
// allocate where the scanner need not. A type with an UnmarshalJSON that
// is not listed here gets that method called on the value's exact bytes,
// as encoding/json calls it, so it is exact whatever the method does.
//
// Each reproduction names the source it mirrors (disgo's, or the standard
// library's for time.Time), with a hash of that source: when an upgrade
// changes it, generating fails until someone has reviewed the
// reproduction and updated the hash.
type reproduction struct {
	typ    reflect.Type
	method string // the *hotDecoder method in package wire
	guards []guard
}

// guard is one declaration a reproduction mirrors.
type guard struct {
	locate any    // a function declared in the same source file, or in the same directory as file
	file   string // the file's name when it is not locate's
	decl   string // the declaration: "(*Message).UnmarshalJSON", "unmarshalComponents"
	sha256 string // the hex SHA-256 of its source text
}

var reproductions = []reproduction{
	{reflect.TypeFor[time.Time](), "decTime", []guard{
		{(*time.Time).UnmarshalJSON, "", "(*Time).UnmarshalJSON", "5095db9c508ec68a0688315094f5e6b9a9d5367b29075a9fead7f5e1d59d25ef"},
		{(*time.Time).UnmarshalJSON, "format_rfc3339.go", "parseStrictRFC3339", "5486993889d85ab713ed0fcf217807cc1f1a939f3dd3b0f703c559e7e2136ace"},
		{(*time.Time).UnmarshalJSON, "format_rfc3339.go", "parseRFC3339", "52402f92f0fd9f988b4a55c8e3effd804b22a6926a727bc60e65c52b351da6dd"},
		{(*time.Time).UnmarshalJSON, "format.go", "parseNanoseconds", "da3c619bacd30cb97b68209ce57dfce50e03d7bb94dc74dcfe7dd958ccb856af"},
	}},
	{reflect.TypeFor[snowflake.ID](), "decSnowflake", []guard{
		{(*snowflake.ID).UnmarshalJSON, "", "(*ID).UnmarshalJSON", "3720f6be398939dfe9db35f7f46e63a305107586f8ca83bb838944751e3ecc57"},
	}},
	{reflect.TypeFor[discord.Nonce](), "decNonce", []guard{
		{(*discord.Nonce).UnmarshalJSON, "", "(*Nonce).UnmarshalJSON", "6aa0c3d7a3ad224542d1992deb419e9e28b5b57c3132228f673b90613a5a668a"},
	}},
	{reflect.TypeFor[discord.Permissions](), "decPermissions", []guard{
		{(*discord.Permissions).UnmarshalJSON, "", "(*Permissions).UnmarshalJSON", "4e669f2c77a6a13572991ae4bf593b4e765e2ef0d1b58cf7895e89d5deb79174"},
	}},
	{reflect.TypeFor[discord.Message](), "decMessage", []guard{
		{(*discord.Message).UnmarshalJSON, "", "(*Message).UnmarshalJSON", "e4bfc58ba736e69da0711e540bc83010e4ffe8bca43af3d27f8e9751087b4f1b"},
		{(*discord.Message).UnmarshalJSON, "", "unmarshalComponents", "d5098d76cf0a8480b16c58cb505bfb71e9a54358d726e438c151d18d979c3cf9"},
	}},
	{reflect.TypeFor[discord.Activity](), "decActivity", []guard{
		{(*discord.Activity).UnmarshalJSON, "", "(*Activity).UnmarshalJSON", "ce5dcad33fb9cc6b14ffb260118c4b6d224c6cefafd0baac47bfb32d6b341cd9"},
	}},
	{reflect.TypeFor[discord.ActivityTimestamps](), "decActivityTimestamps", []guard{
		{(*discord.ActivityTimestamps).UnmarshalJSON, "", "(*ActivityTimestamps).UnmarshalJSON", "e5e19fd1b11c56709a58afd82105fdb145da3f0f1094f6802eaa6a68afdd145c"},
	}},
	{reflect.TypeFor[gateway.EventTypingStart](), "decTypingStart", []guard{
		{(*gateway.EventTypingStart).UnmarshalJSON, "", "(*EventTypingStart).UnmarshalJSON", "1547c02968814dda8abceb9b69d318a302ebd41ef9fb1d1eb90d4e4be460435b"},
	}},
	{reflect.TypeFor[gateway.EventMessageReactionAdd](), "decReactionAdd", []guard{
		{(*gateway.EventMessageReactionAdd).UnmarshalJSON, "", "(*EventMessageReactionAdd).UnmarshalJSON", "bac54088827bc8cff0b8eb1bf5d5daa1d424bd63d2d4d7e6a6af99dfd60a6399"},
	}},
	{reflect.TypeFor[gateway.EventInteractionCreate](), "decInteractionCreate", []guard{
		{(*gateway.EventInteractionCreate).UnmarshalJSON, "", "(*EventInteractionCreate).UnmarshalJSON", "28f4d5775c4d7ec6a6ac375f9c7c447931b70246ec2c46f279b0061dd0a2b08e"},
		{discord.UnmarshalInteraction, "", "UnmarshalInteraction", "385c8acb4600bc81ba8dd2c7d421140b4b073871d2334fa250cd2d9d6586fd93"},
	}},
}

// The images: the structs disgo's UnmarshalJSON methods above decode into,
// declared again so that the generator can write decoders for them. Each
// mirrors the method's local types; the generated file declares them in
// package wire under the same names.

type hotMessageAlias discord.Message

type hotMessageImage struct {
	Components []discord.UnmarshalComponent `json:"components"`
	hotMessageAlias
}

type hotActivityAlias discord.Activity

type hotActivityImage struct {
	CreatedAt int64 `json:"created_at"`
	hotActivityAlias
}

type hotActivityTimestampsImage struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

type hotTypingStartAlias gateway.EventTypingStart

type hotTypingStartImage struct {
	Timestamp int64 `json:"timestamp"`
	hotTypingStartAlias
}

type hotReactionAddAlias gateway.EventMessageReactionAdd

// image is a type declared here for package wire.
type image struct {
	typ     reflect.Type
	source  string // for a defined type: the type it is defined as; empty for a struct literal
	decoded bool   // the reproductions decode into it: it gets a decoder
}

var images = []image{
	{reflect.TypeFor[hotMessageAlias](), "discord.Message", false},
	{reflect.TypeFor[hotMessageImage](), "", true},
	{reflect.TypeFor[hotActivityAlias](), "discord.Activity", false},
	{reflect.TypeFor[hotActivityImage](), "", true},
	{reflect.TypeFor[hotActivityTimestampsImage](), "", true},
	{reflect.TypeFor[hotTypingStartAlias](), "gateway.EventTypingStart", false},
	{reflect.TypeFor[hotTypingStartImage](), "", true},
	{reflect.TypeFor[hotReactionAddAlias](), "gateway.EventMessageReactionAdd", true},
}
