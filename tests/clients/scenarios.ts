/**
 * The scenarios every generated client in clients/ must pass, asserted on
 * what a client program printed: a program per language
 * (tests/clients/python/scenarios.py, tests/clients/go/scenarios/main.go)
 * runs one scenario against the gateway's gRPC port (HTTP/2 cleartext, the
 * HTTP port) and prints JSON lines — `{"phase", "event"}` (a StreamEvent in
 * canonical JSON), `{"phase", "info"}` (a StreamInfo), `{"phase", "error":
 * {"code", "name", "message", "trailers"}}` or `{"phase", "ok": true}`.
 */
import { execFile } from "node:child_process";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  FinishReason,
  ResumeOutcome,
  type StreamEvent,
  StreamEventSchema,
  type StreamInfo,
  StreamInfoSchema,
  StreamState,
} from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { edgeTransport } from "../support/transports.js";

/** A gRPC status as a client printed it, with its trailing metadata. */
interface PrintedError {
  /** The numeric gRPC code (5 NOT_FOUND, 4 DEADLINE_EXCEEDED, …). */
  readonly code: number;
  readonly name: string;
  readonly message: string;
  readonly trailers: Record<string, string>;
}

/** One scenario's output, by phase. */
class Printed {
  constructor(private readonly lines: { phase: string; event?: JsonValue; info?: JsonValue; error?: PrintedError; ok?: boolean }[]) {}
  events(phase: string): StreamEvent[] {
    return this.lines.filter((l) => l.phase === phase && l.event !== undefined).map((l) => fromJson(StreamEventSchema, l.event ?? null));
  }
  info(phase: string): StreamInfo {
    const l = this.lines.find((l) => l.phase === phase && l.info !== undefined);
    expect(l, `no info printed in phase ${phase}`).toBeDefined();
    return fromJson(StreamInfoSchema, l?.info ?? null);
  }
  error(phase: string): PrintedError | undefined {
    return this.lines.find((l) => l.phase === phase && l.error !== undefined)?.error;
  }
}

/** gRPC status codes the scenarios expect. */
const grpcCode = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, FAILED_PRECONDITION: 9 } as const;

const seqs = (events: StreamEvent[]) => events.filter((e) => e.seq > 0).map((e) => e.seq);
const text = (events: StreamEvent[]) => events.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
const cursorOf = (e: StreamEvent | undefined) => `${e?.epoch}:${e?.seq}`;
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * True when the client's toolchain is there. In CI (`CI` set) a missing one
 * throws, failing the file; elsewhere it prints why the suite is skipped and
 * declares one skipped test that says it.
 */
export function haveToolchain(client: string, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (process.env.CI) throw new Error(`${client}: ${missing}: required in CI (.ci/run installs it)`);
  console.warn(`skipping the ${client} tests: ${missing}`);
  it.skip(`the ${client} client (${missing})`, () => {});
  return false;
}

/** Runs a program and resolves with its output; rejects with its stderr when it fails. */
export function run(
  file: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: { ...process.env, ...o.env }, cwd: o.cwd, timeout: o.timeoutMs ?? 30_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} ${args.join(" ")}: ${err.message}\n${stderr}\n${stdout}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * The scenarios' tests for one client, against a fresh Airwave (simulator):
 * `runScenario(target, name)` runs the client's program for scenario `name`
 * against `target` (`127.0.0.1:<port>`); `runExample(target)` runs the
 * client's example from clients/. `prepare` (building, say) runs while the
 * gateway starts.
 */
export function describeClientScenarios(o: {
  client: string;
  prepare?: () => Promise<void>;
  runScenario: (target: string, scenario: string) => Promise<{ stdout: string }>;
  runExample: (target: string) => Promise<{ stdout: string; stderr: string }>;
}) {
  describe(`the ${o.client} client`, () => {
    let airwave: TestAirwave;
    let target = "";
    beforeAll(async () => {
      [airwave] = await Promise.all([startAirwave(), o.prepare?.()]);
      target = new URL(airwave.url).host;
    });
    afterAll(async () => {
      await airwave?.close();
    });
    const scenario = async (name: string) => {
      const { stdout } = await o.runScenario(target, name);
      return new Printed(stdout.split("\n").flatMap((l) => (l.trim() === "" ? [] : [JSON.parse(l)])));
    };

    it("creates a stream and reads it to completion, every event with its cursor", async () => {
      const events = (await scenario("create")).events("create");
      expect(events[0]?.event.case).toBe("started");
      expect(events.at(-1)?.event.case).toBe("completed");
      const completed = events.at(-1)?.event;
      expect(completed?.case === "completed" && completed.value.finishReason).toBe(FinishReason.STOP);
      expect(seqs(events)).toEqual(oneTo(events.length));
      expect(new Set(events.map((e) => e.epoch)).size).toBe(1);
      expect(new Set(events.map((e) => e.streamId)).size).toBe(1);
      expect(text(events).length).toBeGreaterThan(0);
    });

    it("resumes from a mid-stream cursor with no gap and no duplicate", async () => {
      const p = await scenario("resume");
      const before = p.events("before");
      const after = p.events("after");
      const full = p.events("full");
      expect(before.filter((e) => e.event.case === "textDelta")).toHaveLength(5);
      const resumed = after[0]?.event;
      expect(resumed?.case).toBe("resumed");
      expect(resumed?.case === "resumed" && resumed.value.outcome).toBe(ResumeOutcome.RECOVERED);
      expect(resumed?.case === "resumed" && resumed.value.cursor).toBe(cursorOf(before.at(-1)));
      expect(after.at(-1)?.event.case).toBe("completed");
      // The two halves are exactly the whole stream, as a watch from the start replays it.
      expect([...seqs(before), ...seqs(after)]).toEqual(seqs(full));
      expect(seqs(full)).toEqual(oneTo(seqs(full).length));
      expect(text(before) + text(after)).toBe(text(full));
      expect(after.slice(1).map(cursorOf)).toEqual(full.slice(before.length).map(cursorOf));
    });

    it("cancels a running stream: the call ends with completed (CANCELLED)", async () => {
      const p = await scenario("cancel");
      const events = p.events("create");
      expect(events[0]?.event.case).toBe("started");
      const last = events.at(-1)?.event;
      expect(last?.case).toBe("completed");
      expect(last?.case === "completed" && last.value.finishReason).toBe(FinishReason.CANCELLED);
      expect(seqs(events)).toEqual(oneTo(events.length));
      // 100000 tokens at 50/s: the cancel, not the end of the answer, ended it.
      expect(events.filter((e) => e.event.case === "textDelta").length).toBeLessThan(1000);
      expect(p.info("cancel").streamId).toBe(events[0]?.streamId);
      expect(p.info("get").state).toBe(StreamState.CANCELLED);
    });

    it("gets NOT_FOUND for an unknown stream id on watch, get and cancel", async () => {
      const p = await scenario("not_found");
      for (const call of ["watch", "get", "cancel"]) {
        expect(p.error(call)?.code, `${call}: ${JSON.stringify(p.error(call))}`).toBe(grpcCode.NOT_FOUND);
      }
    });

    it("gets DEADLINE_EXCEEDED when its deadline passes; the generation goes on and resumes to the end", async () => {
      const p = await scenario("deadline");
      const before = p.events("create");
      expect(p.error("create")?.code, JSON.stringify(p.error("create"))).toBe(grpcCode.DEADLINE_EXCEEDED);
      expect(before[0]?.event.case).toBe("started");
      expect(before.some((e) => e.event.case === "completed")).toBe(false);
      // Right after the deadline the stream still runs, further than the watch got.
      const info = p.info("get");
      expect(info.state).toBe(StreamState.RUNNING);
      expect(info.lastSeq).toBeGreaterThanOrEqual(before.at(-1)?.seq ?? 0);
      const after = p.events("after");
      expect(after[0]?.event.case).toBe("resumed");
      expect(after.at(-1)?.event.case).toBe("completed");
      const completed = after.at(-1)?.event;
      expect(completed?.case === "completed" && completed.value.finishReason).toBe(FinishReason.STOP);
      expect([...seqs(before), ...seqs(after)]).toEqual(oneTo(seqs(before).length + seqs(after).length));
    });

    it("reads the airwave-reason trailer of an error (SendInput on an ended stream: FAILED_PRECONDITION, STREAM_ENDED)", async () => {
      const error = (await scenario("reason")).error("input");
      expect(error?.code, JSON.stringify(error)).toBe(grpcCode.FAILED_PRECONDITION);
      expect(error?.trailers["airwave-reason"]).toBe("STREAM_ENDED");
    });

    it("runs the example in clients/: it prints the answer", async () => {
      const { stdout } = await o.runExample(target);
      expect(stdout.trim().length).toBeGreaterThan(20);
    });

    it("runs the example through a connection cut: it resumes and prints the whole answer exactly once", async () => {
      // A slower simulator, so that the cut lands mid-answer.
      const slow = await startAirwave({ services: { simTokensPerS: 50 } });
      const proxy = await startFaultProxy({ targetPort: slow.gateway.port });
      try {
        const example = o.runExample(`127.0.0.1:${proxy.port}`);
        await vi.waitFor(() => expect([...proxy.connections].some((c) => c.downBytes > 1500)).toBe(true), { timeout: 10_000, interval: 5 });
        proxy.faultAll({ kind: "reset" });
        const { stdout, stderr } = await example;
        const streamId = /resuming stream ([A-Za-z0-9_-]+) after /.exec(stderr)?.[1];
        expect(streamId, stderr).toBeDefined();
        expect(proxy.cuts).toBeGreaterThanOrEqual(1);
        const whole = await collect(edgeTransport("connect", slow.url).watch(streamId ?? "", undefined, AbortSignal.timeout(15_000)));
        expect(whole.at(-1)?.event.case).toBe("completed");
        expect(stdout).toBe(`${text(whole)}\n`);
      } finally {
        await proxy.close();
        await slow.close();
      }
    });
  });
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}
