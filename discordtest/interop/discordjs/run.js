// Drive @discordjs/ws against the Megane fake Discord server.
// Usage: node run.js URL TOKEN MODE SECONDS [SHARDS|null] [LOGFILE]
//   MODE: none | zlib-native | zlib-sync | identify
'use strict';
const fs = require('node:fs');
const { REST } = require('@discordjs/rest');
const { WebSocketManager, CompressionMethod, WebSocketShardEvents, version: wsVersion } = require('@discordjs/ws');
const { GatewayIntentBits, GatewayDispatchEvents } = require('discord-api-types/v10');

const [url, token, mode = 'none', secsArg = '30', shardsArg = '16', logFile = `debug-${mode}.log`] = process.argv.slice(2);
const seconds = Number(secsArg);
const shardCount = shardsArg === 'null' ? null : Number(shardsArg);
const log = fs.createWriteStream(logFile);
const t0 = Date.now();
const ts = () => ((Date.now() - t0) / 1000).toFixed(3).padStart(8);
const line = (s) => log.write(`${ts()} ${s}\n`);

const compression = { none: null, identify: null, 'zlib-native': CompressionMethod.ZlibNative, 'zlib-sync': CompressionMethod.ZlibSync }[mode];
if (compression === undefined) throw new Error(`unknown mode ${mode}`);

const rest = new REST({ api: `${url}/api`, version: '10' }).setToken(token);
const manager = new WebSocketManager({
  token,
  rest,
  intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages,
  shardCount,
  compression,
  useIdentifyCompression: mode === 'identify',
});

const N = shardCount ?? 16;
const st = {
  ready: new Map(), // shardId -> count of READY
  readyGuilds: new Map(), // shardId -> guilds listed in last READY
  guildCreate: new Map(), // shardId -> count
  guildIds: new Set(),
  dupGuild: 0,
  wrongShardGuild: 0,
  messages: 0,
  firstMsgAt: null,
  lastMsgAt: null,
  wrongShardMsg: 0,
  dispatchTypes: {},
  seqGaps: 0,
  lastSeq: new Map(),
  hello: 0,
  heartbeats: new Map(), // shardId -> acks
  latencies: [],
  closed: [], // {shardId, code, at}
  errors: [],
  socketErrors: [],
  resumed: 0,
  flagged: [], // suspicious debug lines
};
const inc = (m, k, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
const shardOf = (id) => Number((BigInt(id) >> 22n) % BigInt(N));
const suspicious = /zombie|invalid session|unable to decompress|reconnect|resum|destroy|close|error|timeout|unexpected|warn/i;

manager.on(WebSocketShardEvents.Debug, (message, shardId) => {
  const m = message.replace(/\n/g, ' | ');
  line(`[debug s${shardId}] ${m}`);
  // The normal "Destroying shard ... Reason: ..." at our own shutdown is filtered later by time.
  if (suspicious.test(m)) st.flagged.push(`${ts()} s${shardId} ${m}`);
});
manager.on(WebSocketShardEvents.Hello, (shardId) => { st.hello++; line(`[hello s${shardId}]`); });
manager.on(WebSocketShardEvents.Ready, (data, shardId) => {
  inc(st.ready, shardId);
  st.readyGuilds.set(shardId, data.guilds.length);
  st.lastSeq.delete(shardId);
  line(`[READY s${shardId}] session=${data.session_id} shard=${JSON.stringify(data.shard)} guilds=${data.guilds.length} resume_gateway_url=${data.resume_gateway_url}`);
});
manager.on(WebSocketShardEvents.Resumed, (shardId) => { st.resumed++; line(`[RESUMED s${shardId}]`); });
manager.on(WebSocketShardEvents.HeartbeatComplete, (stats, shardId) => {
  inc(st.heartbeats, shardId);
  st.latencies.push(stats.latency);
  line(`[heartbeat-ack s${shardId}] latency=${stats.latency}ms`);
});
manager.on(WebSocketShardEvents.Closed, (code, shardId) => {
  st.closed.push({ shardId, code, at: ts().trim() });
  line(`[CLOSED s${shardId}] code=${code}`);
});
manager.on(WebSocketShardEvents.Error, (err, shardId) => {
  st.errors.push(`${ts()} s${shardId} ${err?.stack ?? err}`);
  line(`[ERROR s${shardId}] ${err?.stack ?? err}`);
});
manager.on(WebSocketShardEvents.SocketError, (err, shardId) => {
  st.socketErrors.push(`${ts()} s${shardId} ${err?.message ?? err}`);
  line(`[SOCKETERROR s${shardId}] ${err?.message ?? err}`);
});
manager.on(WebSocketShardEvents.Dispatch, (payload, shardId) => {
  st.dispatchTypes[payload.t] = (st.dispatchTypes[payload.t] ?? 0) + 1;
  const prev = st.lastSeq.get(shardId);
  if (prev !== undefined && payload.s !== prev + 1) {
    st.seqGaps++;
    line(`[SEQ GAP s${shardId}] ${prev} -> ${payload.s} (${payload.t})`);
  }
  st.lastSeq.set(shardId, payload.s);
  switch (payload.t) {
    case GatewayDispatchEvents.GuildCreate: {
      inc(st.guildCreate, shardId);
      if (st.guildIds.has(payload.d.id)) st.dupGuild++;
      st.guildIds.add(payload.d.id);
      if (shardOf(payload.d.id) !== shardId) st.wrongShardGuild++;
      break;
    }
    case GatewayDispatchEvents.MessageCreate: {
      st.messages++;
      const now = Date.now();
      st.firstMsgAt ??= now;
      st.lastMsgAt = now;
      if (payload.d.guild_id && shardOf(payload.d.guild_id) !== shardId) st.wrongShardMsg++;
      break;
    }
  }
});

let stopping = false;
let stopAt = null;
async function finish(why) {
  if (stopping) return;
  stopping = true;
  stopAt = ts().trim();
  line(`[stop] ${why}`);
  const closedBefore = st.closed.length;
  const flaggedBefore = st.flagged.length;
  const hard = setTimeout(() => { console.error('hard exit: destroy hung'); report(closedBefore, flaggedBefore); process.exit(3); }, 10_000);
  try { await manager.destroy({ reason: 'test over' }); } catch (e) { st.errors.push(`destroy: ${e}`); }
  clearTimeout(hard);
  report(closedBefore, flaggedBefore);
  log.end(() => process.exit(0));
}

function report(closedBefore, flaggedBefore) {
  const perShard = [];
  for (let i = 0; i < N; i++) {
    perShard.push({ shard: i, ready: st.ready.get(i) ?? 0, readyGuilds: st.readyGuilds.get(i) ?? 0, guildCreate: st.guildCreate.get(i) ?? 0, hbAcks: st.heartbeats.get(i) ?? 0 });
  }
  const msgSpan = st.firstMsgAt && st.lastMsgAt > st.firstMsgAt ? (st.lastMsgAt - st.firstMsgAt) / 1000 : 0;
  const lat = st.latencies.slice().sort((a, b) => a - b);
  const out = {
    node: process.version, ws: wsVersion, mode, seconds, shardCount: shardCount ?? 'null (from /gateway/bot)', stopAt,
    shardsReady: perShard.filter((s) => s.ready > 0).length,
    readyTotal: [...st.ready.values()].reduce((a, b) => a + b, 0),
    readyGuildsTotal: [...st.readyGuilds.values()].reduce((a, b) => a + b, 0),
    guildCreateTotal: [...st.guildCreate.values()].reduce((a, b) => a + b, 0),
    uniqueGuilds: st.guildIds.size, dupGuild: st.dupGuild, wrongShardGuild: st.wrongShardGuild,
    messages: st.messages, msgSpanSec: msgSpan, msgPerSec: msgSpan ? +(st.messages / msgSpan).toFixed(1) : 0, wrongShardMsg: st.wrongShardMsg,
    dispatchTypes: st.dispatchTypes, seqGaps: st.seqGaps, hello: st.hello, resumed: st.resumed,
    heartbeatAcks: lat.length, shardsWithAck: perShard.filter((s) => s.hbAcks > 0).length,
    latencyMs: lat.length ? { min: lat[0], median: lat[Math.floor(lat.length / 2)], max: lat.at(-1) } : null,
    closedDuringRun: st.closed.slice(0, closedBefore), closedAtShutdown: summarizeCodes(st.closed.slice(closedBefore)),
    errors: st.errors, socketErrors: st.socketErrors,
    flaggedDuringRun: st.flagged.slice(0, flaggedBefore),
    perShard,
  };
  console.log(JSON.stringify(out, null, 1));
}
function summarizeCodes(list) {
  const c = {};
  for (const x of list) c[x.code] = (c[x.code] ?? 0) + 1;
  return c;
}

setTimeout(() => finish(`timer ${seconds}s`), seconds * 1000);
process.on('SIGINT', () => finish('SIGINT'));
process.on('unhandledRejection', (e) => { st.errors.push(`unhandledRejection: ${e?.stack ?? e}`); line(`[unhandledRejection] ${e?.stack ?? e}`); });

(async () => {
  line(`node ${process.version} @discordjs/ws ${wsVersion} mode=${mode} url=${url}`);
  const gw = await rest.get('/gateway/bot');
  line(`[gateway/bot] ${JSON.stringify(gw)}`);
  await manager.connect();
  line('[connect() resolved]');
})().catch((e) => { st.errors.push(`connect: ${e?.stack ?? e}`); line(`[connect error] ${e?.stack ?? e}`); finish('connect error'); });
