// `npm run conformance:providers`: every recorded upstream transcript under
// <fixtures>/upstream/<dir>/ (env AIRWAVE_FIXTURES, default ../shared/fixtures
// from the repository root) runs through its provider kind's `decode` (the
// kind chosen by `fixtureKind`, the same function the tests use) from the
// BUILT services package, fed in chunks of 1, 7 and 64 bytes and whole.
//
// A transcript passes when: the four chunkings give identical events (their
// Protobuf encodings), nothing throws, there is exactly one terminal event and
// it is last, and every completed tool call's arguments parse as JSON or are
// marked incomplete. Prints a table provider × transcript → pass/fail, event
// counts and the terminal; exits 1 on any failure, 2 when the fixtures folder
// is missing.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const chunkSizes = [1, 7, 64, Infinity];
/** Guard against a decode that never ends, per run, in ms. */
const decodeTimeoutMs = 20_000;

// Build first (incremental: a no-op when services/dist is up to date).
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const build = spawnSync(process.execPath, [tsc, "-b", "services"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.error("conformance:providers: the build failed");
  process.exit(1);
}

const { fixtureKind, providerSpecs, defaultBaseUrls } = await import("@airwave/services");
const { Code, FinishReason, StreamEventSchema, isTerminal } = await import("@airwave/proto");
const { toBinary } = await import("@bufbuild/protobuf");

const fixtures = resolve(root, process.env.AIRWAVE_FIXTURES ?? "../shared/fixtures");
const upstream = join(fixtures, "upstream");
if (!existsSync(upstream)) {
  console.error(`conformance:providers: no upstream fixtures at ${upstream} (set AIRWAVE_FIXTURES to the fixtures folder)`);
  process.exit(2);
}

const rows = [];
for (const dir of readdirSync(upstream, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()) {
  for (const file of readdirSync(join(upstream, dir))
    .filter((f) => f.endsWith(".sse") || f.endsWith(".ndjson"))
    .sort()) {
    const name = `${dir}/${file}`;
    const bytes = new Uint8Array(readFileSync(join(upstream, dir, file)));
    const kind = fixtureKind(name, bytes);
    rows.push({ kind, name, ...(await check(kind, bytes)) });
  }
}
if (rows.length === 0) {
  console.error(`conformance:providers: no transcripts (.sse, .ndjson) under ${upstream}`);
  process.exit(2);
}

printTable(rows);
const failed = rows.filter((r) => !r.pass);
const kinds = [...new Set(rows.map((r) => r.kind))].sort();
console.log(
  `\n${rows.length} transcripts, ${rows.length - failed.length} pass, ${failed.length} fail` +
    ` (${kinds.map((k) => `${k}: ${rows.filter((r) => r.kind === k && r.pass).length}/${rows.filter((r) => r.kind === k).length}`).join(", ")})`,
);
process.exit(failed.length > 0 ? 1 : 0);

/** Runs one transcript at every chunking; returns pass, counts, terminal, and why it failed. */
async function check(kind, bytes) {
  const spec = providerSpecs.get(kind);
  if (!spec) return { pass: false, events: 0, counts: "", terminal: "", why: `no provider kind "${kind}"` };
  const endpoint = { baseUrl: defaultBaseUrls[kind] ?? "http://127.0.0.1", options: {} };
  const runs = [];
  for (const size of chunkSizes) {
    try {
      runs.push(await decodeAll(spec, endpoint, bytes, size));
    } catch (e) {
      return { pass: false, events: 0, counts: "", terminal: "", why: `threw at chunk size ${label(size)}: ${describe(e)}` };
    }
  }
  const events = runs[runs.length - 1];
  const problems = [];
  const encoded = runs.map((evs) => evs.map((e) => Buffer.from(toBinary(StreamEventSchema, e)).toString("base64")));
  for (let i = 0; i < runs.length - 1; i++) {
    const a = encoded[i];
    const b = encoded[encoded.length - 1];
    if (a.length !== b.length || a.some((x, j) => x !== b[j])) {
      const at = a.findIndex((x, j) => x !== b[j]);
      problems.push(
        `chunk size ${label(chunkSizes[i])} differs from whole (${a.length} vs ${b.length} events, first difference at #${at < 0 ? Math.min(a.length, b.length) : at})`,
      );
    }
  }
  const terminals = events.filter((e) => isTerminal(e)).length;
  if (terminals !== 1) problems.push(`${terminals} terminal events`);
  else if (!isTerminal(events[events.length - 1])) problems.push("the terminal event is not last");
  for (const e of events) {
    if (e.event.case !== "toolCallCompleted" || e.event.value.incomplete) continue;
    try {
      JSON.parse(e.event.value.argumentsJson);
    } catch {
      problems.push(`tool call ${e.event.value.callId}: arguments are not JSON and not marked incomplete`);
    }
  }
  return {
    pass: problems.length === 0,
    events: events.length,
    counts: counts(events),
    terminal: terminalLabel(events),
    why: problems.join("; "),
  };
}

/** Feeds `bytes` to `spec.decode` in chunks of `size` and collects every event. */
async function decodeAll(spec, endpoint, bytes, size) {
  const step = Number.isFinite(size) ? size : Math.max(1, bytes.length);
  let offset = 0;
  const body = new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) {
        c.close();
        return;
      }
      c.enqueue(bytes.slice(offset, offset + step));
      offset += step;
    },
  });
  const out = [];
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end after ${decodeTimeoutMs} ms`)), decodeTimeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        for await (const e of spec.decode(body, endpoint)) out.push(e);
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

function counts(events) {
  const by = new Map();
  for (const e of events) by.set(e.event.case, (by.get(e.event.case) ?? 0) + 1);
  const short = {
    textDelta: "text",
    reasoningDelta: "reasoning",
    toolCallStarted: "tool",
    toolCallDelta: "tool-delta",
    toolCallCompleted: "tool-done",
    toolResult: "tool-result",
    usage: "usage",
  };
  return Object.entries(short)
    .filter(([k]) => by.has(k))
    .map(([k, s]) => `${s} ${by.get(k)}`)
    .join(", ");
}

function terminalLabel(events) {
  const t = events.findLast((e) => isTerminal(e))?.event;
  if (t?.case === "completed") return `completed ${FinishReason[t.value.finishReason] ?? t.value.finishReason}`;
  if (t?.case === "failed") return `failed ${Code[t.value.code] ?? t.value.code} ${t.value.reason}`;
  return "none";
}

function label(size) {
  return Number.isFinite(size) ? String(size) : "whole";
}

function describe(e) {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return m.replace(/\s+/g, " ").slice(0, 160);
}

function printTable(rows) {
  const head = ["provider", "transcript", "result", "events", "terminal", "counts / why"];
  const cells = rows.map((r) => [r.kind, r.name, r.pass ? "pass" : "FAIL", String(r.events), r.terminal, r.pass ? r.counts : r.why]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i < widths.length ? x.padEnd(widths[i]) : x)).join("  ");
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w)).concat("-".repeat(12))));
  for (const c of cells.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]))) console.log(line(c));
}
