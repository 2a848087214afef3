// Package discordtest is a protocol-faithful fake Discord for tests: a real
// HTTP and websocket server on loopback that speaks the REST endpoints a bot
// needs to start (GET /api/v10/gateway/bot, /gateway, /users/@me) and to
// answer (POST /channels/{channel.id}/messages, recorded in
// [Server.Posted]; the webhook execute endpoint POST
// /webhooks/{webhook.id}/{webhook.token}, recorded in [Server.WebhookPosted])
// and the gateway v10 protocol (HELLO, IDENTIFY, READY,
// GUILD_CREATE, heartbeats, RESUME with replay, RESUMED, op 7, op 9, close
// codes), with json encoding and none, zlib-stream or zstd-stream
// transport compression. disgo's REST
// client and disgo's sharded bot.Client work against it unchanged, given
// rest.WithURL(s.APIURL()).
//
// It enforces what Discord enforces and counts every breach in [Counters]:
//
//   - IDENTIFY: a wrong token closes with 4004; shard [id, count] with
//     id >= count or count < 1 closes with 4010; a shard that would own more
//     than [WithMaxGuildsPerShard] guilds closes with 4011; unknown intent
//     bits close with 4013 and privileged intents outside
//     [WithAllowedIntents] with 4014; a second IDENTIFY or RESUME on one
//     connection closes with 4005.
//   - Identify buckets (shard_id % max_concurrency, 0 treated as 1) allow one
//     IDENTIFY per [WithIdentifyWindow]; a breach is answered with op 9
//     d:false and spends no session start. When the session start limit
//     has no start left, IDENTIFY is answered with op 9 d:false too.
//   - Client payloads: over 4096 bytes closes with 4002, not JSON with 4002,
//     an opcode a client may not send with 4001, more than [WithSendLimit]
//     payloads per window with 4008, presence/voice/member requests before
//     IDENTIFY with 4003 (otherwise they are accepted and ignored).
//   - The query: v other than 10 closes with 4012; encoding other than json
//     (etf is not spoken) and a compression not offered close with 4002.
//
// Heartbeats are ACKed [WithAckDelay] (at least 1 ms) after they are read.
// The server does not close connections that stop heartbeating; use
// [Server.WithholdAcks] to make a client see a zombie connection. Payload
// compression (IDENTIFY's "compress": true) is not spoken; such clients get
// plain text frames.
//
// Sessions outlive their connections, until the client closes with 1000
// or 1001 (which ends the session, as on Discord). RESUME with a known session and a
// seq the replay buffer still covers replays every dispatch after seq, in
// order, then RESUMED (a dispatch with its own seq); otherwise it gets op 9
// d:false. A [Ledger] records every sequence number assigned to every
// session, so a test can prove that a client lost nothing.
//
// Faults are injected on demand: [Server.Reconnect], [Server.InvalidSession],
// [Server.CloseShard], [Server.DropShard], [Server.WithholdAcks],
// [Server.SendMalformed], [Server.SendDMGuildCreate],
// [Server.RequestHeartbeat], each for one shard or [AllShards];
// [Server.FailGatewayBot] gives GET /gateway/bot a bad answer (a 500, a 429,
// a body that is not JSON, an unusable url). Client latency
// ([WithClientLatency], [Server.SetClientLatency]) delays every frame
// clients send by a seeded random duration, and the server times each
// frame when it arrives, as Discord does.
//
// Traffic ([Server.Emit], [Server.EmitMessage], [Server.SetRate], with a
// share of chosen contents such as bot commands by [WithContents]) is
// rendered from templates encoded once, with the sequence number,
// snowflakes and pre-escaped content spliced into a reused buffer, and each connection's writer batches frames into one
// system call. Measured with BenchmarkServerDispatch on a 2-core machine,
// one 1.1 KB MESSAGE_CREATE costs about 1.2 µs of CPU uncompressed, 3.7 µs
// with zstd-stream and 5.5 µs with zlib-stream, server and draining client
// together, with no allocation on the server's side.
//
// Guild traffic ([Server.SetGuildRate]) is the world's, not a
// connection's: one goroutine makes each guild event (MESSAGE_CREATE,
// MESSAGE_REACTION_ADD, TYPING_START in a random guild) once and queues it,
// as Discord does, to every session of every shard count whose shard
// covers the guild, so two shard sets side by side (a re-shard from 8 to 16
// shards, say) both get it, each with its own sequence numbers. Live
// sessions are kept per shard and shard count; a fault for a shard ID acts
// on that shard in every count. [Ledger.GuildEvents] lists each guild event
// once with its identity (a message ID, say) and fan-out, so a test can
// prove that a bot handled each exactly once across a re-shard.
//
// A Server is safe for concurrent use by multiple goroutines. Create one
// with [New] in a test (it is closed by tb.Cleanup) or [Start] elsewhere,
// and always [Server.Close] it: Close ends every connection and waits for
// every goroutine the server started. Per connection the server runs two
// goroutines (a reader and a writer); its memory is a few KB plus about
// 32 bytes per dispatch kept for replay (see [WithReplayBuffer]) and, for
// zstd-stream, the encoder's window.
package discordtest
