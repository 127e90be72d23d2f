/**
 * `node bench/src/overload.ts [--c=2000] [--seconds=5] [--reps=1] [--env=K=V …] [--no-pin]`:
 * the c=2,000 scenario of `npm run bench` (50 tok/s, 100 tokens, Poisson
 * arrivals at c/2 per second, SSE) against one fresh gateway, counting how
 * every client ended: its stream, a clean refusal (HTTP 429 with
 * `Retry-After`), a connection reset, or something else. Before the load,
 * the same gateway's unloaded figure (c=20) gives the per-event latency the
 * admitted streams are compared with (issue 19: within 2×).
 *
 * Latency is per event, token emitted upstream → its bytes at the client
 * (token-clock.ts), over the streams that were admitted; the refusal time is
 * request sent → the 429's end. `--env` passes AIRWAVE_* settings to the
 * gateway (e.g. `--env=AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS=0` for the figure without
 * the event-loop delay signal, `--env=AIRWAVE_LISTEN_BACKLOG=511` for Node's
 * default accept queue). Run `npm run build` first.
 * @module
 */
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { type BenchChild, cpuUs, pinning, startChild } from "./bench-child.ts";
import { histogram, runLoad } from "./run-load.ts";
import { airwaveTargets, type StreamCallbacks, type Target } from "./targets.ts";
import { nowUs } from "./token-clock.ts";

const { values: flags } = parseArgs({
  options: {
    c: { type: "string", default: "2000" },
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "1" },
    env: { type: "string", multiple: true, default: [] },
    "no-pin": { type: "boolean", default: false },
  },
  strict: true,
});
const c = Number(flags.c);
const pin = pinning && !flags["no-pin"];
const seconds = Number(flags.seconds);
const extraEnv = Object.fromEntries(flags.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

/** How one run's clients ended, and the admitted streams' figures. */
interface Outcome {
  started: number;
  ok: number;
  refused: number;
  refusedWithRetryAfter: number;
  resets: number;
  other: number;
  /** Neither ended nor refused within the run's 60 s. */
  unfinished: number;
  otherErrors: string[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  gapP99Ms: number;
  refusalP50Ms: number;
  refusalP99Ms: number;
  refusalMaxMs: number;
  /** The gateway's CPU over the run, in % of one core (from /proc). */
  gatewayCpuPercent: number;
  /** How busy the harness's own event loop was (a saturated harness delays what it measures). */
  harnessLoopBusyPercent: number;
}

/** `target` with each stream's end classified and its inter-arrival gaps recorded. */
function counting(target: Target) {
  const o = { refused: 0, retryAfter: 0, resets: 0, other: 0, errors: [] as string[] };
  const gaps = histogram();
  const refusals = histogram();
  const t: Target = {
    name: target.name,
    close: () => target.close(),
    open(model, cb: StreamCallbacks) {
      const sent = nowUs();
      let last = 0;
      return target.open(model, {
        onToken(emit, recv) {
          if (last > 0) gaps.recordValue(Math.max(1, recv - last));
          last = recv;
          cb.onToken(emit, recv);
        },
        onEnd(err) {
          if (err) {
            const m = err.message;
            if (m.includes("HTTP 429")) {
              o.refused++;
              refusals.recordValue(Math.max(1, nowUs() - sent));
              if (m.includes("retry-after")) o.retryAfter++;
            } else if (m.includes("ECONNRESET") || m.includes("socket hang up")) o.resets++;
            else {
              o.other++;
              if (o.errors.length < 5 && !o.errors.includes(m.slice(0, 160))) o.errors.push(m.slice(0, 160));
            }
          }
          cb.onEnd(err);
        },
      });
    },
  };
  return { t, o, gaps, refusals };
}

async function run(gw: BenchChild, concurrency: number, s: number): Promise<Outcome> {
  const { t, o, gaps, refusals } = counting(airwaveTargets(gw.url).sse as Target);
  const cpu0 = cpuUs(gw.pid);
  const elu0 = performance.eventLoopUtilization();
  const r = await runLoad({
    target: t,
    model: "paced-r50-n100",
    arrival: { kind: "poisson", perSecond: concurrency / 2, seconds: s },
    timeoutMs: 60_000,
  });
  t.close();
  const cpuPercent = ((cpuUs(gw.pid) - cpu0) / r.wallUs) * 100;
  const harnessBusy = performance.eventLoopUtilization(elu0).utilization * 100;
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    started: r.started,
    ok: r.ok,
    refused: o.refused,
    refusedWithRetryAfter: o.retryAfter,
    resets: o.resets,
    other: o.other,
    unfinished: r.started - r.ok - o.refused - o.resets - o.other,
    otherErrors: o.errors,
    latencyP50Ms: ms(r.latency.getValueAtPercentile(50)),
    latencyP99Ms: ms(r.latency.getValueAtPercentile(99)),
    gapP99Ms: ms(gaps.getValueAtPercentile(99)),
    refusalP50Ms: ms(refusals.getValueAtPercentile(50)),
    refusalP99Ms: ms(refusals.getValueAtPercentile(99)),
    refusalMaxMs: ms(refusals.maxValue),
    gatewayCpuPercent: Math.round(cpuPercent),
    harnessLoopBusyPercent: Math.round(harnessBusy),
  };
}

const children: BenchChild[] = [];
try {
  // As in main.ts: the harness and the upstream on CPU 0, the gateway on CPU 1 (unless --no-pin:
  // on a machine shared with other work, a pinned gateway may get a fraction of its CPU).
  const up = await startChild("upstream.ts", { name: "upstream", cpu: pin ? 0 : undefined });
  children.push(up);
  for (let rep = 0; rep < Number(flags.reps); rep++) {
    const gw = await startChild("airwave-gateway.ts", {
      name: "airwave-gateway",
      cpu: pin ? 1 : undefined,
      env: {
        AIRWAVE_INFERENCE_URL: up.url,
        AIRWAVE_PORT: "0",
        AIRWAVE_MAX_STREAMS: "30000",
        AIRWAVE_OWNER_MAX_STREAMS: "0",
        AIRWAVE_OWNER_STARTS_PER_S: "0",
        AIRWAVE_LOG_LEVEL: "warn",
        ...extraEnv,
      },
    });
    children.push(gw);
    console.error(`gateway ${gw.url} (pid ${gw.pid})`);
    await runLoad({ target: airwaveTargets(gw.url).sse as Target, model: "paced-r200-n20", arrival: { kind: "burst", streams: 20 } });
    const unloaded = await run(gw, 20, 5);
    const loaded = await run(gw, c, seconds);
    console.log(JSON.stringify({ rep, env: extraEnv, unloaded, [`c=${c}`]: loaded }, null, 1));
    await gw.stop();
  }
} finally {
  for (const ch of children) await ch.stop();
}
