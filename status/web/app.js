// The Megane status page: polls status.json every second and renders it;
// the action buttons POST with the admin token from the input field.
"use strict";

const kinds = ["full", "resume", "worker"];
const $ = (id) => document.getElementById(id);

// cell returns a <td> with text and an optional class.
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function ms(ns) { return (ns / 1e6).toFixed(1) + " ms"; }
function when(t) { return t ? new Date(t).toLocaleTimeString() : "–"; }

// fill replaces the rows of table id's body with rows.
function fill(id, rows) {
  $(id).tBodies[0].replaceChildren(...rows);
}

function renderClusters(clusters) {
  fill("clusters", clusters.map((c) => {
    const tr = document.createElement("tr");
    tr.id = "cluster-" + c.id;
    tr.className = "cluster " + (c.ready ? "ready" : "not-ready");
    tr.dataset.cluster = c.id;
    tr.append(cell(c.id, "cluster-id"), cell(c.state, "cluster-state state-" + c.state),
      cell((c.shards || []).map((s) => s.id).join(", "), "cluster-shards"),
      cell(c.guilds, "cluster-guilds"), cell(c.restarts, "cluster-restarts"),
      cell(c.last_error || "", "cluster-error"));
    const td = cell("", "cluster-actions");
    for (const k of kinds) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "action restart";
      b.id = "restart-" + c.id + "-" + k;
      b.dataset.cluster = c.id;
      b.dataset.kind = k;
      b.textContent = k;
      td.append(b);
    }
    tr.append(td);
    return tr;
  }));
}

function renderShards(clusters) {
  const rows = [];
  for (const c of clusters) {
    for (const s of c.shards || []) {
      const tr = document.createElement("tr");
      tr.id = "shard-" + s.id;
      tr.className = "shard " + (s.ready ? "ready" : "not-ready");
      tr.dataset.shard = s.id;
      tr.dataset.cluster = c.id;
      tr.append(cell(s.id, "shard-id"), cell(c.id, "shard-cluster"), cell(s.status, "shard-status state-" + s.status),
        cell(ms(s.latency_ns), "shard-latency"), cell(s.events_per_second.toFixed(1), "shard-eps"),
        cell(s.events, "shard-events"), cell(s.resumes, "shard-resumes"), cell(s.reconnects, "shard-reconnects"));
      rows.push(tr);
    }
  }
  rows.sort((a, b) => a.dataset.shard - b.dataset.shard);
  fill("shards", rows);
}

function renderServices(services) {
  fill("services", services.map((s) => {
    const tr = document.createElement("tr");
    tr.className = "service " + (s.ready ? "ready" : "not-ready");
    tr.dataset.service = s.name;
    tr.append(cell(s.name, "service-name"), cell(s.state, "service-state state-" + s.state),
      cell(s.restarts, "service-restarts"), cell(s.last_error || "", "service-error"));
    return tr;
  }));
}

function renderQueue(q) {
  $("queue-waiting").textContent = q.waiting;
  $("queue-next").textContent = when(q.next_slot);
  $("queue-remaining").textContent = q.remaining < 0 ? "unknown" : q.remaining;
  $("queue-reset").textContent = when(q.reset_at);
}

function renderEvents(events) {
  $("events").replaceChildren(...events.slice().reverse().map((e) => {
    const li = document.createElement("li");
    li.className = "event kind-" + e.kind;
    const parts = [when(e.at), e.kind];
    if (e.cluster >= 0) parts.push("cluster " + e.cluster);
    if (e.shard >= 0) parts.push("shard " + e.shard);
    if (e.restart) parts.push(e.restart);
    if (e.service) parts.push(e.service + " → " + e.state);
    if (e.error) parts.push("error: " + e.error);
    li.textContent = parts.join(" · ");
    return li;
  }));
}

function render(r) {
  const shards = r.clusters.flatMap((c) => c.shards || []);
  const ready = r.clusters.filter((c) => c.ready).length;
  $("summary").textContent = r.running
    ? `${ready}/${r.clusters.length} clusters ready · ${shards.filter((s) => s.ready).length}/${shards.length} shards ready`
    : "not running";
  $("summary").className = "summary " + (r.running && ready === r.clusters.length ? "ok" : "warn");
  $("updated").textContent = "updated " + when(r.time);
  renderClusters(r.clusters);
  renderShards(r.clusters);
  renderServices(r.services);
  renderQueue(r.identify_queue);
  renderEvents(r.events);
  document.body.dataset.loaded = "true";
}

async function poll() {
  try {
    const res = await fetch("status.json", { cache: "no-store" });
    render(await res.json());
  } catch (err) {
    $("summary").textContent = "status unavailable: " + err;
    $("summary").className = "summary warn";
  }
  setTimeout(poll, 1000);
}

// act POSTs an action with the token and shows its result.
async function act(path, label) {
  const out = $("action-result");
  out.className = "result pending";
  out.textContent = label + "…";
  const headers = {};
  const token = $("token").value;
  if (token) headers["Authorization"] = "Bearer " + token;
  try {
    const res = await fetch(path, { method: "POST", headers });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      out.className = "result ok";
      out.textContent = label + ": done";
    } else {
      out.className = "result error";
      out.textContent = label + ": " + res.status + " " + (body.error || res.statusText);
    }
  } catch (err) {
    out.className = "result error";
    out.textContent = label + ": " + err;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("clusters").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.restart");
    if (!b) return;
    act(`clusters/${b.dataset.cluster}/restart?kind=${b.dataset.kind}`,
      `restart cluster ${b.dataset.cluster} (${b.dataset.kind})`);
  });
  $("rolling").addEventListener("click", () => {
    const k = $("rolling-kind").value;
    act(`rolling-restart?kind=${k}`, `rolling restart (${k})`);
  });
  poll();
});
