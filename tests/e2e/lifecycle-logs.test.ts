/**
 * The gateway's stream lifecycle log lines (pino JSON): one line per step —
 * created, first token, detached, resumed (with its outcome), cancelled
 * (with its source), ended (with its outcome) — each with the stream id,
 * the owner's name and the transport; a key never appears, whatever field
 * would carry it (pino's `redact` below the lines' own fields).
 */
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, isTerminal, newStreamId, OnDetach, Role, type StreamEvent } from "@airwave/proto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactedLogPaths } from "@airwave/gateway";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { edgeTransport } from "../support/transports.js";

const key = `k-${newStreamId()}`;
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

let aw: TestAirwave;
beforeAll(async () => {
  const logger = pino({ level: "info", redact: { paths: redactedLogPaths, censor: "[redacted]" } }, sink);
  aw = await startAirwave({ gateway: { logger, apiKeys: [{ name: "alice", key }], authMode: "required", detachGraceMs: 50 } });
});
afterAll(async () => {
  await aw?.close();
});

const lineOf = (msg: string, streamId: string) => lines.filter((l) => l.msg === msg && l.stream_id === streamId);

describe("stream lifecycle log lines", () => {
  it("logs created, first token, resumed, detached, cancelled and ended, with the stream id, owner and transport", async () => {
    const t = edgeTransport("sse", aw.url, key);
    const req = create(CreateStreamRequestSchema, {
      streamId: newStreamId(),
      onDetach: OnDetach.CANCEL,
      request: {
        model: "simulator",
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "tides" } }] }],
        metadata: { "simulator.output_tokens": "2000", "simulator.ttft_ms": "5", "simulator.tokens_per_s": "200" },
      },
    });
    const ac = new AbortController();
    const seen: StreamEvent[] = [];
    for await (const e of t.create(req, ac.signal)) {
      seen.push(e);
      if (seen.length === 5) break; // leaves: the detach grace (50 ms) cancels it
    }
    const mid = seen[3] as StreamEvent;
    for await (const e of t.watch(req.streamId, { epoch: mid.epoch, seq: mid.seq }, AbortSignal.timeout(20_000))) if (isTerminal(e)) break;

    const id = req.streamId;
    expect(lineOf("stream created", id)).toEqual([
      expect.objectContaining({ level: 30, owner: "key:alice", transport: "sse", model: "simulator" }),
    ]);
    expect(lineOf("first token", id)).toEqual([expect.objectContaining({ owner: "key:alice", ttft_ms: expect.any(Number) })]);
    expect(lineOf("stream detached", id)[0]).toMatchObject({ owner: "key:alice", on_detach: "cancel" });
    expect(lineOf("stream resumed", id)).toEqual([
      expect.objectContaining({ transport: "sse", outcome: "recovered", cursor: `${mid.epoch}:${mid.seq}` }),
    ]);
    expect(lineOf("stream cancelled", id)).toEqual([expect.objectContaining({ source: "detach" })]);
    expect(lineOf("stream ended", id)).toEqual([expect.objectContaining({ outcome: "completed", duration_ms: expect.any(Number) })]);
    expect(JSON.stringify(lines)).not.toContain(key);
  });

  it("censors credentials in any field a line might carry", () => {
    const out: string[] = [];
    const l = pino(
      { redact: { paths: redactedLogPaths, censor: "[redacted]" } },
      new Writable({
        write(c: Buffer, _e, done) {
          out.push(c.toString());
          done();
        },
      }),
    );
    l.info({ req: { headers: { authorization: `Bearer ${key}`, cookie: key } }, err: { config: { apiKey: key } }, apiKey: key }, "x");
    expect(out.join("")).not.toContain(key);
  });
});
