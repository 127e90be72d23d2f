/**
 * `npm run bench [-- --quick] [-- --profile]`: Airwave beside the direct
 * gRPC floor, a textbook Express relay, Portkey and the Vercel AI SDK, all
 * reading the same paced upstream; then the browser's side, the streaming
 * Markdown view in Chromium (src/render.ts; `--only=render` runs only that).
 * See bench/README.md for the method and the columns.
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BenchChild, cpuUs, pinning, rssBytes, startChild } from "./bench-child.ts";
import { formatHeapGrowth, heapGrowth, summariseHeapFile } from "./heap-summary.ts";
import { formatProfile, type ProfileSummary, summariseProfile } from "./profile-summary.ts";
import { barChartSvg, formatGoals, formatTable, type GoalCheck, percentiles, type ResultRow } from "./report.ts";
import { startAndDrop } from "./resume-client.ts";
import { renderScenarios, runRenderBench } from "./render.ts";
import { histogram, type LoadOptions, type LoadResult, runLoad } from "./run-load.ts";
import { aiSdkTarget, airwaveTargets, expressTarget, grpcFloorTarget, portkeyTarget, type Target } from "./targets.ts";

/**
 * The flags (`node:util` `parseArgs`, strict: an unknown flag or a missing
 * value is an error that names it):
 * - `--quick`: the CI size (< 3 min); `--profile`: CPU profiles of the systems;
 * - `--only=<scenario>,…`: only these scenarios (by prefix); `--only=render`
 *   only the rendering section in Chromium ("render cost", "render long answer"),
 *   without starting any system (the full run ends with it; `--quick` runs it
 *   only when named so);
 * - `--systems=airwave,express`: only these systems (keys: floor, airwave,
 *   airwave-full, express, portkey, ai-sdk); the floor always runs;
 * - `--baseline=<dir>` (repeatable): also runs the gateway built in `<dir>`
 *   (a build of gateway/src inside the repository, e.g. a copy of
 *   gateway/dist in `bench/results/ab/gateway-before`) as the system
 *   `airwave (<dir name>) SSE`, alternating with the current build in the
 *   same run: an A/B comparison of a change on a shared machine;
 * - `--reps=N`: repetitions of the c=1 and Poisson scenarios (default:
 *   quick 2 and 1, full 5 and 3).
 */
const flags = parseFlags();
function parseFlags() {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        profile: { type: "boolean", default: false },
        only: { type: "string" },
        systems: { type: "string" },
        baseline: { type: "string", multiple: true, default: [] },
        reps: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.reps !== undefined && !/^[1-9][0-9]*$/.test(values.reps))
      throw new Error(`--reps must be a positive integer, got ${JSON.stringify(values.reps)}`);
    return values;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(2);
  }
}
const quick = flags.quick;
const profile = flags.profile;
const only = flags.only?.split(",");
const systemsWanted = flags.systems?.split(",");
const baselineDists = flags.baseline;
const wantSystem = (key: string) => key === "floor" || key.startsWith("baseline") || !systemsWanted || systemsWanted.includes(key);
const benchDir = resolve(import.meta.dirname, "..");
const resultsDir = join(benchDir, "results");
const t0 = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const repsArg = flags.reps === undefined ? undefined : Number(flags.reps);

/** The run's sizes: quick (< 3 min, CI) or full (< 20 min). */
const size = quick
  ? {
      reps: repsArg ?? 2,
      poissonReps: repsArg ?? 1,
      c1Streams: 3,
      poisson: [20, 100],
      poissonSeconds: 3,
      fastStreams: 5,
      burst: 100,
      open: [1000],
      startsSeconds: 1.5,
      resumePerGap: 10,
      storm: 200,
      protoPoisson: 0,
    }
  : {
      reps: repsArg ?? 5,
      poissonReps: repsArg ?? 3,
      c1Streams: 5,
      poisson: [20, 100, 500, 2000],
      poissonSeconds: 5,
      fastStreams: 10,
      burst: 500,
      open: [2000, 10000],
      startsSeconds: 4,
      resumePerGap: 30,
      storm: 1000,
      protoPoisson: 100,
    };

// The harness and the upstream share CPU 0; the systems under test get CPU 1.
const harnessCpu = 0;
const sutCpu = 1;
if (pinning) execFileSync("taskset", ["-cp", String(harnessCpu), String(process.pid)], { stdio: "ignore" });

interface System {
  key: string;
  target: Target;
  /** Processes whose CPU counts for this system (none for the floor). */
  procs: readonly { readonly pid: number }[];
  /** Prefix of the model name (the full Airwave path routes by provider). */
  modelPrefix: string;
}

const rows: ResultRow[] = [];
const children: BenchChild[] = [];
const want = (scenario: string) => !only || only.some((o) => scenario.startsWith(o));

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const p = (s.address() as { port: number }).port;
  await new Promise((ok) => s.close(ok));
  return p;
}

async function child(script: string, name: string, env: Record<string, string> = {}, cpuProfDir?: string): Promise<BenchChild> {
  const c = await startChild(script, { name, env, cpu: script === "upstream.ts" ? harnessCpu : sutCpu, cpuProfDir });
  children.push(c);
  return c;
}

const gatewayEnv = (inferenceUrl: string) => ({
  AIRWAVE_INFERENCE_URL: inferenceUrl,
  AIRWAVE_PORT: "0",
  AIRWAVE_MAX_STREAMS: "30000",
  // The load generator is one owner running thousands of streams: the
  // per-owner limits (100 running, 10 starts/s by default) are off.
  AIRWAVE_OWNER_MAX_STREAMS: "0",
  AIRWAVE_OWNER_STARTS_PER_S: "0",
  // The rows measure the cost of what is offered, as the other systems serve it: admission's
  // event-loop signals are off (bench/src/overload.ts measures the refusals with the defaults).
  AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS: "0",
  AIRWAVE_ADMISSION_MAX_LOOP_BUSY_PERCENT: "0",
  AIRWAVE_LOG_LEVEL: "warn",
});

const cpuOf = (procs: readonly { readonly pid: number }[]) => procs.reduce((s, p) => s + cpuUs(p.pid), 0);

/** Runs a load on a system and turns it into a row (CPU from /proc around the run). */
async function measure(
  scenario: string,
  sys: System,
  o: Omit<LoadOptions, "target" | "model"> & { model: string },
): Promise<{ row: ResultRow; load: LoadResult }> {
  const c0 = cpuOf(sys.procs);
  const load = await runLoad({ ...o, target: sys.target, model: sys.modelPrefix + o.model });
  const cpu = cpuOf(sys.procs) - c0;
  const row: ResultRow = {
    scenario,
    system: sys.target.name,
    streams: { started: load.started, ok: load.ok, failed: load.failed },
    tokens: load.tokens,
    eventsPerS: load.tokens / (load.wallUs / 1e6),
    ttfe: percentiles(load.ttfe),
    latency: percentiles(load.latency),
    ...(sys.procs.length > 0 && load.tokens > 0 ? { cpuUsPerEvent: cpu / load.tokens, capacityPerCore: 1e6 / (cpu / load.tokens) } : {}),
    ...(load.errors.length ? { errors: load.errors } : {}),
  };
  return { row, load };
}

/** Fills the "added" columns of `rows` from the floor's row of the same scenario. */
function addFloor(scenario: string, floorRow: ResultRow | undefined, others: ResultRow[]): void {
  if (!floorRow?.ttfe || !floorRow.latency) return;
  for (const r of others) {
    if (r.scenario !== scenario || r === floorRow || !r.ttfe || !r.latency) continue;
    r.addedTtfeP50 = r.ttfe.p50 - floorRow.ttfe.p50;
    r.addedLatencyP50 = r.latency.p50 - floorRow.latency.p50;
    r.addedLatencyP99 = r.latency.p99 - floorRow.latency.p99;
  }
}

/**
 * Repeats a load `reps` times over every system in turn (floor first, so
 * each system's repetitions alternate with the floor's), merging the
 * histograms per system.
 */
async function alternating(scenario: string, systems: System[], reps: number, o: Omit<LoadOptions, "target">): Promise<ResultRow[]> {
  const merged = new Map<string, { ttfe: ReturnType<typeof histogram>; latency: ReturnType<typeof histogram>; rows: ResultRow[] }>();
  for (let rep = 0; rep < reps; rep++) {
    for (const sys of systems) {
      const { row, load } = await measure(scenario, sys, o);
      let m = merged.get(sys.key);
      if (!m) merged.set(sys.key, (m = { ttfe: histogram(), latency: histogram(), rows: [] }));
      m.ttfe.add(load.ttfe);
      m.latency.add(load.latency);
      m.rows.push(row);
    }
  }
  const out: ResultRow[] = [];
  for (const sys of systems) {
    const m = merged.get(sys.key);
    if (!m) continue;
    const rs = m.rows;
    const tokens = rs.reduce((s, r) => s + r.tokens, 0);
    const cpuRows = rs.filter((r) => r.cpuUsPerEvent !== undefined);
    const cpuUsPerEvent = cpuRows.length
      ? cpuRows.reduce((s, r) => s + (r.cpuUsPerEvent as number) * r.tokens, 0) /
        Math.max(
          1,
          cpuRows.reduce((s, r) => s + r.tokens, 0),
        )
      : undefined;
    const errors = [...new Set(rs.flatMap((r) => r.errors ?? []))];
    out.push({
      scenario,
      system: sys.target.name,
      streams: rs.reduce(
        (s, r) => ({ started: s.started + r.streams.started, ok: s.ok + r.streams.ok, failed: s.failed + r.streams.failed }),
        { started: 0, ok: 0, failed: 0 },
      ),
      tokens,
      eventsPerS: rs.reduce((s, r) => s + (r.eventsPerS ?? 0), 0) / rs.length,
      ttfe: percentiles(m.ttfe),
      latency: percentiles(m.latency),
      ...(cpuUsPerEvent !== undefined ? { cpuUsPerEvent, capacityPerCore: 1e6 / cpuUsPerEvent } : {}),
      extra: {
        reps,
        "p50/rep": rs.map((r) => r.latency?.p50.toFixed(3)).join("/"),
        ...(cpuRows.length > 1 ? { "CPU/rep": cpuRows.map((r) => r.cpuUsPerEvent?.toFixed(0)).join("/") } : {}),
      },
      ...(errors.length ? { errors } : {}),
    });
  }
  addFloor(scenario, out[0], out);
  rows.push(...out);
  for (const r of out)
    log(
      `${scenario} · ${r.system}: lat p50 ${r.latency?.p50} ms, p99 ${r.latency?.p99} ms, CPU ${r.cpuUsPerEvent?.toFixed(1) ?? "—"} µs/ev, ${r.streams.ok}/${r.streams.failed}`,
    );
  return out;
}

async function wsAvailable(url: string): Promise<string | undefined> {
  const r = await fetch(`${url}/v1/ws`).catch((e: Error) => ({ status: 0, statusText: e.message }));
  // A gateway with the endpoint answers a plain GET with 426 Upgrade Required.
  return r.status === 426 ? undefined : `GET /v1/ws answers ${r.status}: the WebSocket endpoint is not in this gateway build`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The rendering section (Chromium, no system involved): its rows and goals join the run's; its table is printed.
 * It takes minutes (a 10 MB answer, twice), so `--quick` (CI, < 3 min) runs it only when `--only` names it.
 */
async function renderSection(): Promise<GoalCheck[]> {
  if (!renderScenarios.some(want) || (quick && !only)) return [];
  log("rendering section: the Markdown view in Chromium");
  const r = await runRenderBench({ quick, want, log });
  rows.push(...r.rows);
  console.log(`\n${r.printout}\n`);
  return r.goals;
}

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  if (only?.every((o) => renderScenarios.some((s) => s.startsWith(o)))) {
    const goals = await renderSection();
    writeFileSync(
      join(resultsDir, `${stamp}.json`),
      `${JSON.stringify({ startedAt: new Date(t0).toISOString(), quick, rows, goals }, null, 2)}\n`,
    );
    console.log(`Goals (this machine, this run):\n${formatGoals(goals)}\n\nresults: bench/results/${stamp}.json`);
    return;
  }
  log(
    `${quick ? "quick" : "full"} run; taskset ${pinning ? `pins harness+upstream to CPU ${harnessCpu}, systems to CPU ${sutCpu}` : "not available: nothing pinned"}`,
  );
  const up = await child("upstream.ts", "upstream");
  const openai = up.info.openaiUrl as string;
  const gw = await child("airwave-gateway.ts", "airwave-gateway", gatewayEnv(up.url));
  const baselines: System[] = [];
  for (const [i, dir] of baselineDists.entries()) {
    const name = basename(resolve(dir));
    const c = await child("airwave-gateway.ts", `airwave-gateway-${name}`, { ...gatewayEnv(up.url), BENCH_GATEWAY_DIST: resolve(dir) });
    baselines.push({ key: `baseline-${i}`, target: airwaveTargets(c.url, `airwave (${name})`).sse as Target, procs: [c], modelPrefix: "" });
  }
  const services = wantSystem("airwave-full")
    ? await child("airwave-services.ts", "airwave-services", {
        OPENAI_BASE_URL: openai,
        OPENAI_API_KEY: "bench",
        AIRWAVE_LOG_LEVEL: "warn",
      })
    : undefined;
  const gwFull = services ? await child("airwave-gateway.ts", "airwave-gateway-full", gatewayEnv(services.url)) : undefined;
  // The gateway with the Redis log (AIRWAVE_REDIS_URL) beside the memory log: its own
  // redis-server on the systems' CPU, whose CPU counts with the gateway's.
  const redis = wantSystem("airwave-redis") ? await redisServer() : undefined;
  const gwRedis = redis
    ? await child("airwave-gateway.ts", "airwave-gateway-redis", { ...gatewayEnv(up.url), AIRWAVE_REDIS_URL: redis.url })
    : undefined;
  // The gateway without metrics (AIRWAVE_METRICS=off) and with metrics and every span exported
  // (OTLP to a receiver in this process, sampled at 100 %): what observability costs.
  const otlp = wantSystem("airwave-traced") ? await otlpSink() : undefined;
  const gwBare = wantSystem("airwave-bare")
    ? await child("airwave-gateway.ts", "airwave-gateway-bare", { ...gatewayEnv(up.url), AIRWAVE_METRICS: "off" })
    : undefined;
  const gwTraced = otlp
    ? await child("airwave-gateway.ts", "airwave-gateway-traced", {
        ...gatewayEnv(up.url),
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_TRACES_SAMPLER: "always_on",
      })
    : undefined;
  const express = wantSystem("express") ? await child("express-relay.ts", "express", { UPSTREAM_OPENAI_URL: openai }) : undefined;
  const portkey = wantSystem("portkey") ? await child("portkey.ts", "portkey", { PORTKEY_PORT: String(await freePort()) }) : undefined;
  const aiSdk = wantSystem("ai-sdk") ? await child("ai-sdk.ts", "ai-sdk", { UPSTREAM_OPENAI_URL: openai }) : undefined;
  log("all systems started");

  const aw = airwaveTargets(gw.url);
  const awFull = gwFull && airwaveTargets(gwFull.url, "airwave full path");
  const floor: System = { key: "floor", target: grpcFloorTarget(up.url), procs: [], modelPrefix: "" };
  const airwave: System = { key: "airwave", target: aw.sse as Target, procs: [gw], modelPrefix: "" };
  const all: (System | undefined)[] = [
    floor,
    airwave,
    gwRedis &&
      redis && {
        key: "airwave-redis",
        target: airwaveTargets(gwRedis.url, "airwave · Redis log").sse as Target,
        procs: [gwRedis, redis],
        modelPrefix: "",
      },
    gwBare && {
      key: "airwave-bare",
      target: airwaveTargets(gwBare.url, "airwave · no metrics").sse as Target,
      procs: [gwBare],
      modelPrefix: "",
    },
    gwTraced && {
      key: "airwave-traced",
      target: airwaveTargets(gwTraced.url, "airwave · metrics + traces").sse as Target,
      procs: [gwTraced],
      modelPrefix: "",
    },
    ...baselines,
    gwFull &&
      services &&
      awFull && { key: "airwave-full", target: awFull.sse as Target, procs: [gwFull, services], modelPrefix: "openai-compatible/" },
    express && { key: "express", target: expressTarget(express.url), procs: [express], modelPrefix: "" },
    portkey && { key: "portkey", target: portkeyTarget(portkey.url, openai), procs: [portkey], modelPrefix: "" },
    aiSdk && { key: "ai-sdk", target: aiSdkTarget(aiSdk.url), procs: [aiSdk], modelPrefix: "" },
  ];
  const systems = all.filter((x): x is System => x !== undefined && wantSystem(x.key));
  // The Redis log is measured where its goals are (c=1, c=20, c=100, starts, resume), not in every overload;
  // the observability variants only at c=100, where their goal is.
  const at100Only = new Set(["airwave-bare", "airwave-traced"]);
  const withoutRedis = systems.filter((x) => x.key !== "airwave-redis" && !at100Only.has(x.key));
  const everywhere = systems.filter((x) => !at100Only.has(x.key));

  // Warm-up: JIT and connection pools of every system, not measured.
  for (const sys of systems) {
    await runLoad({
      target: sys.target,
      model: `${sys.modelPrefix}paced-r200-n20`,
      arrival: { kind: "burst", streams: 20 },
      timeoutMs: 10_000,
    });
    await runLoad({
      target: sys.target,
      model: `${sys.modelPrefix}paced-r200-n10`,
      arrival: { kind: "sequential", streams: 3 },
      timeoutMs: 10_000,
    });
  }
  log("warm-up done");

  /** What each open stream holds, from heap snapshots (full run). */
  let memoryProfile: ReturnType<typeof heapGrowth> | undefined;

  if (want("c=1"))
    await alternating("c=1 · 100 tok/s", everywhere, size.reps, {
      model: "paced-r100-n40",
      arrival: { kind: "sequential", streams: size.c1Streams },
      timeoutMs: 30_000,
    });

  for (const c of size.poisson) {
    const scenario = `50 tok/s · Poisson c=${c}`;
    if (!want(scenario)) continue;
    // 100 tokens at 50 tok/s last 2 s, so c concurrent streams arrive at c/2 per second.
    // c=20 (≈ 1,000 events/s) is the point well below saturation for the CPU per event: the floor, Airwave and the Express relay.
    const chosen =
      c >= 2000
        ? [floor, airwave]
        : c < 100
          ? systems.filter(
              (s) =>
                s.key === "floor" ||
                s.key === "airwave" ||
                s.key === "airwave-redis" ||
                s.key.startsWith("baseline") ||
                s.key === "express",
            )
          : c > 100
            ? withoutRedis
            : systems;
    const out = await alternating(scenario, chosen, c >= 500 ? 1 : size.poissonReps, {
      model: "paced-r50-n100",
      arrival: { kind: "poisson", perSecond: c / 2, seconds: size.poissonSeconds },
      timeoutMs: 60_000,
    });
    // c × 50 events/s offered: past one core's capacity (1e6 / CPU µs per event) it shows behaviour under overload.
    for (const r of out)
      if (c * 50 > (r.capacityPerCore ?? Infinity))
        r.note = `offered ${c * 50} events/s > capacity ${r.capacityPerCore?.toFixed(0)}/s/core: overloaded`;
  }

  if (want("1000 tok/s"))
    await alternating("1000 tok/s · burst", withoutRedis, 1, {
      model: "paced-r1000-n1000",
      arrival: { kind: "burst", streams: size.fastStreams },
      timeoutMs: 30_000,
    });

  if (want("burst"))
    await alternating(`burst ${size.burst} · 50 tok/s`, withoutRedis, 1, {
      model: "paced-r50-n50",
      arrival: { kind: "burst", streams: size.burst },
      timeoutMs: 60_000,
    });

  if (want("starts")) {
    const out: ResultRow[] = [];
    for (const sys of everywhere) {
      const { row } = await measure("stream starts", sys, {
        model: "paced-r1000-n1",
        arrival: { kind: "closed", concurrency: 32, seconds: size.startsSeconds },
        timeoutMs: 30_000,
      });
      const perS = row.streams.ok / ((size.startsSeconds * 1e6 + 1) / 1e6);
      const cpuPerStart = row.cpuUsPerEvent; // one token per stream: µs per stream
      row.extra = {
        "starts/s": perS.toFixed(0),
        ...(cpuPerStart !== undefined ? { "CPU µs/start": cpuPerStart.toFixed(0), "starts/s/core": (1e6 / cpuPerStart).toFixed(0) } : {}),
      };
      delete row.cpuUsPerEvent;
      delete row.capacityPerCore;
      out.push(row);
      log(`stream starts · ${row.system}: ${JSON.stringify(row.extra)}`);
    }
    rows.push(...out);
  }

  if (want("stalled")) {
    // A gateway of its own: the shared one may still be digesting the overload of c=2000.
    const { g, target } = await freshGateway("stalled", up.url);
    const own: System = { key: "airwave", target, procs: [g], modelPrefix: "" };
    const base = {
      model: "paced-r50-n100",
      arrival: { kind: "poisson" as const, perSecond: 50, seconds: size.poissonSeconds },
      timeoutMs: 60_000,
    };
    const a = await measure("stalled readers · 0 %", own, base);
    const rss0 = rssBytes(g.pid);
    const b = await measure("stalled readers · 5 %", own, { ...base, stallFraction: 0.05 });
    b.row.addedLatencyP50 = (b.row.latency?.p50 ?? 0) - (a.row.latency?.p50 ?? 0);
    b.row.addedLatencyP99 = (b.row.latency?.p99 ?? 0) - (a.row.latency?.p99 ?? 0);
    b.row.extra = { "RSS before MB": (rss0 / 2 ** 20).toFixed(0), "RSS after MB": (rssBytes(g.pid) / 2 ** 20).toFixed(0) };
    own.target.close();
    await g.stop();
    b.row.note = "added = vs the same load without stalled readers";
    rows.push(a.row, b.row);
    log(`stalled readers: p50 ${a.row.latency?.p50} → ${b.row.latency?.p50} ms, p99 ${a.row.latency?.p99} → ${b.row.latency?.p99} ms`);
  }

  if (want("open")) {
    for (const [k, n] of size.open.entries()) {
      const r = await openStreams(n, up.url, !quick && k === 0);
      rows.push(r.row);
      if (r.growth) memoryProfile = r.growth;
    }
  }

  if (want("resume")) {
    const logs = [{ url: gw.url, system: "airwave SSE" }, ...(gwRedis ? [{ url: gwRedis.url, system: redisName }] : [])];
    for (const gapMs of [0, 500, 5000]) {
      for (const g of logs) {
        const drops = await Promise.all(Array.from({ length: size.resumePerGap }, () => startAndDrop(g.url, "paced-r20-n60", 5)));
        await sleep(gapMs);
        const outs = [];
        for (const d of drops) outs.push(await d.resume()); // one at a time: latency of a lone resume
        rows.push(resumeRow(`resume after ${gapMs / 1000} s`, outs, g.system));
      }
    }
    const drops = [];
    for (let i = 0; i < size.storm; i += 100)
      drops.push(
        ...(await Promise.all(Array.from({ length: Math.min(100, size.storm - i) }, () => startAndDrop(gw.url, "paced-r10-n100", 3)))),
      );
    await sleep(500);
    const outs = await Promise.all(drops.map((d) => d.resume()));
    rows.push(resumeRow(`resume storm ${size.storm}`, outs));
  }

  if (want("protocols")) {
    const skip = await wsAvailable(gw.url);
    const protos = Object.entries(aw).filter(([k]) => !(k === "ws" && skip));
    if (skip) {
      console.log(`WebSocket skipped: ${skip}`);
      rows.push({
        scenario: "egress · c=1",
        system: "airwave WebSocket",
        streams: { started: 0, ok: 0, failed: 0 },
        tokens: 0,
        note: `skipped: ${skip}`,
      });
    }
    const psys = [floor, ...protos.map(([k, t]) => ({ key: `aw-${k}`, target: t, procs: [gw], modelPrefix: "" }))];
    for (const s of psys)
      await runLoad({ target: s.target, model: "paced-r200-n10", arrival: { kind: "burst", streams: 10 }, timeoutMs: 10_000 });
    await alternating("egress · c=1", psys, size.reps, {
      model: "paced-r100-n40",
      arrival: { kind: "sequential", streams: size.c1Streams },
      timeoutMs: 30_000,
    });
    if (size.protoPoisson > 0)
      await alternating(`egress · Poisson c=${size.protoPoisson}`, psys, 1, {
        model: "paced-r50-n50",
        arrival: { kind: "poisson", perSecond: size.protoPoisson, seconds: quick ? 2 : 4 },
        timeoutMs: 60_000,
      });
  }

  let profileSummary: ProfileSummary | undefined;
  if (profile) {
    // The running gateways (warm), profiled only while the load runs: no start-up or warm-up in it.
    const dir = join(resultsDir, `profile-${stamp}`);
    mkdirSync(dir, { recursive: true });
    const redisSystem = systems.find((x) => x.key === "airwave-redis");
    const tracedSystem = systems.find((x) => x.key === "airwave-traced");
    const profiled = [
      { name: "airwave-gateway", title: "the gateway", proc: gw, target: airwave.target, redis: undefined },
      ...(gwRedis && redisSystem
        ? [{ name: "airwave-gateway-redis", title: "the gateway with the Redis log", proc: gwRedis, target: redisSystem.target, redis }]
        : []),
      ...(gwTraced && tracedSystem
        ? [
            {
              name: "airwave-gateway-traced",
              title: "the gateway with every span exported",
              proc: gwTraced,
              target: tracedSystem.target,
              redis: undefined,
            },
          ]
        : []),
    ];
    for (const p of profiled) {
      const file = join(dir, `${p.name}.cpuprofile`);
      await runLoad({ target: p.target, model: "paced-r200-n20", arrival: { kind: "burst", streams: 20 }, timeoutMs: 10_000 });
      const c = quick ? 100 : 200;
      await p.proc.startProfile();
      const c0 = cpuUs(p.proc.pid);
      const r0 = p.redis ? cpuUs(p.redis.pid) : 0;
      const r = await runLoad({
        target: p.target,
        model: "paced-r50-n100",
        arrival: { kind: "poisson", perSecond: c / 2, seconds: quick ? 4 : 8 },
        timeoutMs: 60_000,
      });
      const cpu = cpuUs(p.proc.pid) - c0;
      const redisCpu = p.redis ? `; redis-server ${((cpuUs(p.redis.pid) - r0) / Math.max(1, r.tokens)).toFixed(1)} µs/ev` : "";
      await p.proc.stopProfile(file);
      const summary = summariseProfile(file, 30);
      profileSummary ??= summary; // the results keep the memory log's
      console.log(
        `\nCPU profile of ${p.title}, 50 tok/s Poisson c=${c} over SSE (${r.tokens} tokens, ${(cpu / Math.max(1, r.tokens)).toFixed(1)} µs/ev with the profiler on${redisCpu}): ${file}\n${formatProfile(summary)}\n`,
      );
    }
  }

  for (const s of systems) s.target.close();
  for (const t of Object.values(aw)) t.close();
  for (const c of children) await c.stop();
  await redis?.stop();
  await otlp?.close();

  const renderGoals = await renderSection();
  const goals = [...checkGoals(rows), ...renderGoals];
  const result = {
    startedAt: new Date(t0).toISOString(),
    quick,
    durationS: (Date.now() - t0) / 1000,
    pinning,
    node: process.version,
    rows,
    goals,
    profile: profileSummary,
    memoryProfile,
  };
  writeFileSync(join(resultsDir, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  // A partial run (--only) does not replace the latest complete one.
  if (!only) {
    writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(resultsDir, "latest.svg"), chart(rows));
  }
  console.log(`\n${formatTable(rows)}\n\nGoals (Airwave gateway, this machine, this run):\n${formatGoals(goals)}\n`);
  console.log(
    `results: bench/results/${stamp}.json${only ? "" : ", bench/results/latest.json, chart bench/results/latest.svg"} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}

const stamp = new Date(t0).toISOString().replace(/[:.]/g, "-");

/** The name of the gateway with the Redis log in the tables. */
const redisName = "airwave · Redis log SSE";

/**
 * A redis-server of the bench's own (no persistence) on a free port, on the
 * systems' CPU; `pid` for its CPU. Undefined when `redis-server` is not
 * installed (the Redis rows are then missing, and their goals "not measured").
 */
/**
 * An OTLP/HTTP receiver that takes every export and keeps nothing (in the
 * harness's process, not on the systems' CPU): where the traced gateway
 * sends its spans.
 */
async function otlpSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function redisServer(): Promise<{ pid: number; url: string; stop(): Promise<void> } | undefined> {
  const port = await freePort();
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"];
  const p = pinning
    ? spawn("taskset", ["-c", String(sutCpu), "redis-server", ...args], { stdio: "ignore" })
    : spawn("redis-server", args, { stdio: "ignore" });
  const failed = await new Promise<boolean>((resolve) => {
    p.once("error", () => resolve(true));
    p.once("spawn", () => resolve(false));
  });
  if (failed || p.pid === undefined) {
    log("redis-server not found: the Redis log is not measured");
    return undefined;
  }
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (up) break;
    await sleep(50);
  }
  const pid = p.pid;
  return {
    pid,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      p.kill("SIGKILL");
      if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once("exit", r));
    },
  };
}

/**
 * A gateway started for one scenario (so no earlier load shapes its memory
 * or latency), warmed up with a burst of 20 short streams; its SSE target.
 * The caller stops it.
 */
async function freshGateway(name: string, upstreamUrl: string): Promise<{ g: BenchChild; target: Target }> {
  const g = await child("airwave-gateway.ts", `airwave-gateway-${name}`, gatewayEnv(upstreamUrl));
  const target = airwaveTargets(g.url).sse as Target;
  await runLoad({ target, model: "paced-r200-n20", arrival: { kind: "burst", streams: 20 }, timeoutMs: 10_000 });
  return { g, target };
}

/**
 * `n` open SSE streams at 1 tok/s on a gateway of their own (started for
 * this, so "before" is an idle gateway, not one grown by earlier
 * scenarios). Streams open in waves of 500, each wave waiting for its first
 * tokens. Memory: after forced GCs, before and with the streams open;
 * heap + external per stream is what the streams hold (RSS does not shrink
 * back, so its growth is reported beside). With `snapshot`, heap snapshots
 * before and after give the growth per stream by constructor.
 */
async function openStreams(
  n: number,
  upstreamUrl: string,
  snapshot: boolean,
): Promise<{ row: ResultRow; growth?: ReturnType<typeof heapGrowth> }> {
  const { g, target } = await freshGateway(`open-${n}`, upstreamUrl);
  const dir = join(resultsDir, `heap-${stamp}`);
  if (snapshot) {
    mkdirSync(dir, { recursive: true });
    await g.heapSnapshot(join(dir, "before.heapsnapshot"));
  }
  const mem0 = await g.gc();
  const c0 = cpuUs(g.pid);
  const t0 = Date.now();
  const handles: { abort(): void }[] = [];
  let firsts = 0;
  let failed = 0;
  const errs = new Set<string>();
  for (let i = 0; i < n; i += 500) {
    const wave = Math.min(500, n - i);
    for (let j = 0; j < wave; j++) {
      let first = true;
      handles.push(
        target.open("paced-r1-n600", {
          onToken() {
            if (first) {
              first = false;
              firsts++;
            }
          },
          onEnd(err) {
            if (err) {
              failed++;
              errs.add(err.message.slice(0, 150));
            }
          },
        }),
      );
    }
    const waveDeadline = Date.now() + 20_000;
    while (firsts + failed < i + wave && Date.now() < waveDeadline) await sleep(50);
  }
  const openS = (Date.now() - t0) / 1000;
  await sleep(1000);
  const mem1 = await g.gc();
  const c1 = cpuUs(g.pid);
  await sleep(3000);
  const idleCpuPct = ((cpuUs(g.pid) - c1) / 3e6) * 100;
  let growth: ReturnType<typeof heapGrowth> | undefined;
  if (snapshot) {
    await g.heapSnapshot(join(dir, "after.heapsnapshot"));
    growth = heapGrowth(summariseHeapFile(join(dir, "before.heapsnapshot")), summariseHeapFile(join(dir, "after.heapsnapshot")), n);
    console.log(`\nWhat each of ${n} open streams holds (heap snapshots, ${dir}): ${formatHeapGrowth(growth)}\n`);
  }
  const heapExtKB = (mem1.heapUsed + mem1.external - mem0.heapUsed - mem0.external) / n / 1024;
  const row: ResultRow = {
    scenario: `${n} open streams · 1 tok/s`,
    system: "airwave SSE",
    streams: { started: n, ok: firsts, failed },
    tokens: firsts,
    extra: {
      "RSS MB": (mem1.rss / 2 ** 20).toFixed(0),
      "idle RSS MB": (mem0.rss / 2 ** 20).toFixed(0),
      "KB/stream heap+ext": heapExtKB.toFixed(1),
      "KB/stream RSS": ((mem1.rss - mem0.rss) / n / 1024).toFixed(1),
      "CPU % at 1 tok/s": idleCpuPct.toFixed(1),
      "open s": openS.toFixed(1),
      "open CPU s": ((c1 - c0) / 1e6).toFixed(2),
    },
    note: "a fresh gateway; memory after GC, streams open vs idle",
    ...(errs.size ? { errors: [...errs].slice(0, 3) } : {}),
  };
  log(
    `${n} open: ${firsts}/${n} open in ${openS.toFixed(1)} s, RSS ${(mem1.rss / 2 ** 20).toFixed(0)} MB, ${heapExtKB.toFixed(1)} KB/stream heap+ext, CPU ${idleCpuPct.toFixed(1)} %`,
  );
  for (const h of handles) h.abort();
  target.close();
  await g.stop();
  return { row, ...(growth ? { growth } : {}) };
}

function resumeRow(
  scenario: string,
  outs: { firstReplayUs: number | undefined; gaps: number; duplicates: number }[],
  system = "airwave SSE",
): ResultRow {
  const h = histogram();
  let gaps = 0;
  let dups = 0;
  let none = 0;
  for (const o of outs) {
    if (o.firstReplayUs === undefined) none++;
    else h.recordValue(Math.max(1, o.firstReplayUs));
    gaps += o.gaps;
    dups += o.duplicates;
  }
  const p = percentiles(h);
  log(`${scenario} · ${system}: first replayed event p50 ${p.p50} ms, p99 ${p.p99} ms, gaps ${gaps}, duplicates ${dups}`);
  return {
    scenario,
    system,
    streams: { started: outs.length, ok: outs.length - none, failed: none },
    tokens: 0,
    ttfe: p,
    extra: { gaps, duplicates: dups },
    note: "TTFE = resume request → first replayed event",
  };
}

function find(scenarioPrefix: string, system: string): ResultRow | undefined {
  return rows.find((r) => r.scenario.startsWith(scenarioPrefix) && r.system === system);
}

function checkGoals(rs: ResultRow[]): GoalCheck[] {
  void rs;
  const g: GoalCheck[] = [];
  const le = (goal: string, v: number | undefined, limit: number, unit: string, d = 2) =>
    g.push({
      goal,
      measured: v === undefined ? "not measured" : `${v.toFixed(d)} ${unit}`,
      met: v === undefined ? undefined : v <= limit,
      gap: v === undefined ? "" : `${(v - limit).toFixed(d)} ${unit} over`,
    });
  const aw = "airwave SSE";
  const p50 = find("50 tok/s · Poisson c=100", aw);
  le("gateway CPU ≤ 15 µs per delivered event at 50 tok/s (c=100, log on)", p50?.cpuUsPerEvent, 15, "µs", 1);
  const c1 = find("c=1", aw);
  le("added TTFE ≤ 0.5 ms p50 (c=1, vs floor)", c1?.addedTtfeP50, 0.5, "ms", 3);
  le("added per-event latency ≤ 0.15 ms p50 (c=1)", c1?.addedLatencyP50, 0.15, "ms", 3);
  le("added per-event latency ≤ 2 ms p99 (c=1)", c1?.addedLatencyP99, 2, "ms", 3);
  const open2k = find(`${size.open[0]} open`, aw);
  le(
    `≤ 30 KB per open SSE stream (heap + external after GC, ${size.open[0]} streams, a fresh gateway)`,
    open2k?.extra ? Number(open2k.extra["KB/stream heap+ext"]) : undefined,
    30,
    "KB",
    1,
  );
  const open10k = find("10000 open", aw);
  le("10,000 open streams < 500 MB (gateway RSS)", open10k?.extra ? Number(open10k.extra["RSS MB"]) : undefined, 500, "MB", 0);
  const starts = find("stream starts", aw);
  const spc = starts?.extra?.["starts/s/core"];
  g.push({
    goal: "≥ 4,000 stream starts per second per core",
    measured: spc === undefined ? "not measured" : `${spc} starts/s/core (${starts?.extra?.["starts/s"]} starts/s achieved)`,
    met: spc === undefined ? undefined : Number(spc) >= 4000,
    gap: spc === undefined ? "" : `${(4000 - Number(spc)).toFixed(0)} starts/s/core short`,
  });
  const resumes = rs.filter((r) => r.scenario.startsWith("resume"));
  for (const r of resumes) {
    const on = r.system === aw ? "" : ` (${r.system})`;
    le(`${r.scenario}${on}: first replayed event ≤ 2 ms p50`, r.ttfe?.p50, 2, "ms", 3);
    le(`${r.scenario}${on}: first replayed event ≤ 10 ms p99`, r.ttfe?.p99, 10, "ms", 3);
    const bad = Number(r.extra?.gaps ?? 0) + Number(r.extra?.duplicates ?? 0);
    g.push({
      goal: `${r.scenario}${on}: 0 gaps and 0 duplicates`,
      measured: `${r.extra?.gaps} gaps, ${r.extra?.duplicates} duplicates`,
      met: bad === 0,
      gap: `${bad} bad events`,
    });
  }
  // What observability costs: metrics and every span exported, beside the gateway with neither.
  const bare = find("50 tok/s · Poisson c=100", "airwave · no metrics SSE")?.cpuUsPerEvent;
  const traced = find("50 tok/s · Poisson c=100", "airwave · metrics + traces SSE")?.cpuUsPerEvent;
  le(
    "metrics + traces (100 % sampled, OTLP) add ≤ 10 % CPU per event (c=100, vs no metrics)",
    bare && traced ? traced / bare : undefined,
    1.1,
    "×",
    2,
  );
  // The Redis log beside the memory log, same run (gateway + redis-server CPU).
  for (const c of [20, 100]) {
    const mem = find(`50 tok/s · Poisson c=${c}`, aw)?.cpuUsPerEvent;
    const red = find(`50 tok/s · Poisson c=${c}`, redisName)?.cpuUsPerEvent;
    le(`Redis log CPU per event ≤ 1.25 × the memory log's (c=${c}, gateway + Redis)`, mem && red ? red / mem : undefined, 1.25, "×", 2);
  }
  const redisC1 = find("c=1", redisName);
  le(
    "Redis log adds ≤ 1 ms p50 to the first event (c=1, vs the memory log)",
    redisC1?.ttfe && c1?.ttfe ? redisC1.ttfe.p50 - c1.ttfe.p50 : undefined,
    1,
    "ms",
    3,
  );
  const stall = find("stalled readers · 5 %", aw);
  g.push({
    goal: "5 % stalled readers add no latency to others (p50 +≤ 0.15 ms, p99 +≤ 1 ms)",
    measured: stall ? `p50 ${stall.addedLatencyP50?.toFixed(3)} ms, p99 ${stall.addedLatencyP99?.toFixed(3)} ms added` : "not measured",
    met: stall ? (stall.addedLatencyP50 ?? 0) <= 0.15 && (stall.addedLatencyP99 ?? 0) <= 1 : undefined,
    gap: stall
      ? `p50 ${Math.max(0, (stall.addedLatencyP50 ?? 0) - 0.15).toFixed(3)} ms, p99 ${Math.max(0, (stall.addedLatencyP99 ?? 0) - 1).toFixed(3)} ms over`
      : "",
  });
  return g;
}

function chart(rs: ResultRow[]): string {
  const names = ["airwave SSE", "airwave full path SSE", "Express SSE relay", "Portkey gateway", "Vercel AI SDK"];
  const cpuRow = (n: string) => rs.find((r) => r.scenario === "50 tok/s · Poisson c=100" && r.system === n);
  const c1 = (n: string) => rs.find((r) => r.scenario.startsWith("c=1") && r.system === n);
  /** A bar of an added time (ms; a negative measurement is shown as 0). */
  const addedBar = (n: string, ms: number | undefined) => ({
    label: n,
    value: ms === undefined ? undefined : Math.max(0, ms),
    highlight: n.startsWith("airwave"),
  });
  return barChartSvg(`Airwave beside the alternatives, ${quick ? "quick" : "full"} run ${new Date(t0).toISOString().slice(0, 16)}`, [
    {
      title: "Gateway CPU per delivered event at 50 tok/s, c=100 (lower is better)",
      unit: "µs",
      goal: 15,
      bars: names.map((n) => ({ label: n, value: cpuRow(n)?.cpuUsPerEvent, highlight: n.startsWith("airwave") })),
    },
    {
      title: "Added per-event latency p50 at c=1, vs the direct gRPC floor",
      unit: "ms",
      goal: 0.15,
      bars: names.map((n) => addedBar(n, c1(n)?.addedLatencyP50)),
    },
    {
      title: "Added time to first event p50 at c=1, vs the floor",
      unit: "ms",
      goal: 0.5,
      bars: names.map((n) => addedBar(n, c1(n)?.addedTtfeP50)),
    },
  ]);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err);
  for (const c of children) await c.stop().catch(() => {});
  process.exit(1);
}
