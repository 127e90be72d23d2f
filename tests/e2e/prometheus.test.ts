/**
 * A real Prometheus (Debian's `prometheus` package; `.ci/run` installs it)
 * scrapes a running gateway every second while streams run; its HTTP API
 * then answers the operator's questions with plausible numbers: the target
 * is up, the streams started, the median time to first token (from the
 * histogram's buckets, `histogram_quantile`) lies between the simulator's
 * delay and a second, and the resume counter has the outcome the test made.
 * Outside CI a missing `prometheus` skips the suite and says so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, isTerminal, newStreamId, Role, type StreamEvent } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { freePort, waitForPort } from "../support/replica-infra.js";
import { edgeTransport } from "../support/transports.js";

const installed = !spawnSync("prometheus", ["--version"]).error;
if (!installed && process.env.CI) throw new Error("prometheus is not installed; CI must run the Prometheus test (.ci/run installs it)");
if (!installed)
  console.warn("Prometheus test skipped: `prometheus` is not installed (Debian's prometheus package); with CI set this fails");

const ttftMs = 20;

describe.runIf(installed)("a real Prometheus scraping the gateway", () => {
  let aw: TestAirwave;
  let prom: ChildProcess;
  let promUrl: string;
  let dir: string;

  beforeAll(async () => {
    aw = await startAirwave();
    dir = mkdtempSync(join(tmpdir(), "airwave-prometheus-"));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(aw.url).host;
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: airwave-gateway",
        "    static_configs:",
        `      - targets: ["${target}"]`,
        "",
      ].join("\n"),
    );
    prom = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: "ignore" },
    );
    await waitForPort(port, 20_000);
  }, 30_000);

  afterAll(async () => {
    prom?.kill("SIGTERM");
    await aw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** An instant query's vector result. */
  async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status).toBe("success");
    return body.data?.result ?? [];
  }

  /** Polls `q` (Prometheus scrapes every second) until `ok` holds for its first value; the value. */
  async function eventually(q: string, ok: (v: number) => boolean, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = Number.NaN;
    while (Date.now() < deadline) {
      const r = await query(q).catch(() => []);
      last = Number(r[0]?.value[1] ?? Number.NaN);
      if (ok(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${q}: last value ${last} after ${timeoutMs} ms`);
  }

  it("answers with the streams, the time to first token and the resume outcomes", { timeout: 90_000 }, async () => {
    const t = edgeTransport("sse", aw.url);
    const streams = 10;
    let mid: StreamEvent | undefined;
    for (let i = 0; i < streams; i++) {
      const req = create(CreateStreamRequestSchema, {
        streamId: newStreamId(),
        request: {
          model: "simulator",
          messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: `tide ${i}` } }] }],
          metadata: { "simulator.output_tokens": "10", "simulator.ttft_ms": String(ttftMs) },
        },
      });
      for await (const e of t.create(req, AbortSignal.timeout(20_000))) {
        if (e.seq === 4) mid = e;
        if (isTerminal(e)) break;
      }
    }
    if (!mid) throw new Error("no event at seq 4");
    for await (const e of t.watch(mid.streamId, { epoch: mid.epoch, seq: mid.seq }, AbortSignal.timeout(20_000))) if (isTerminal(e)) break;

    await eventually('up{job="airwave-gateway"}', (v) => v === 1);
    const started = await eventually('sum(airwave_streams_started_total{transport="sse"})', (v) => v >= streams);
    expect(started).toBe(streams);
    await eventually('sum(airwave_resumes_total{outcome="recovered"})', (v) => v === 1);
    const p50 = await eventually(
      'histogram_quantile(0.5, sum by (le) (airwave_time_to_first_token_seconds_bucket{point="log", provider="simulator"}))',
      (v) => Number.isFinite(v),
    );
    expect(p50).toBeGreaterThanOrEqual(ttftMs / 1000 / 2); // the bucket below the simulator's delay at the lowest
    expect(p50).toBeLessThan(1);
    const byOutcome = await query("sum by (outcome) (airwave_streams_ended_total)");
    expect(byOutcome.find((r) => r.metric.outcome === "completed")?.value[1]).toBe(String(streams));
    console.log(`Prometheus: ${started} streams, time to first token p50 ${(p50 * 1000).toFixed(1)} ms (log), 1 resume recovered`);
  });
});
