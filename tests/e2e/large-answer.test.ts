/**
 * A single answer of more than 10 MB streams through every transport the
 * client library speaks, is cut half-way by a TCP reset, resumes, and ends
 * with exactly the text the log holds.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CreateStreamRequestSchema, isTerminal, newStreamId, Role, StreamService } from "@airwave/proto";
import { streamWithResume } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { clientTransports, transportNames } from "../support/transports.js";

const outputTokens = 2_000_000;
const deltaTokens = 200;
const tenMB = 10 * 1024 * 1024;

let aw: AirwaveProcess;
beforeAll(async () => {
  aw = await startAirwaveProcess({ AIRWAVE_LOG_MAX_BYTES: String(256 * 1024 * 1024) });
});
afterAll(async () => {
  await aw?.stop();
});

describe("a 10 MB+ answer", () => {
  it.each(transportNames)("streams over %s, resumes after a cut half-way, and matches the log", { timeout: 120_000 }, async (name) => {
    const proxy = await startFaultProxy({ targetPort: Number(new URL(aw.url).port) });
    const streamId = newStreamId();
    const req = create(CreateStreamRequestSchema, {
      streamId,
      request: {
        model: "simulator/fast",
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: `a very long answer over ${name}` } }] }],
        metadata: { "simulator.output_tokens": String(outputTokens), "simulator.delta_tokens": String(deltaTokens) },
      },
    });
    const hash = createHash("sha256");
    let bytes = 0;
    let cut = false;
    let retries = 0;
    let last = 0;
    let gaps = 0; // seqs that did not grow
    try {
      const s = streamWithResume(clientTransports[name](proxy.url), req, {
        backoff: { initialDelayMs: 5, maxDelayMs: 50 },
        onRetry: () => retries++,
      });
      for await (const e of s) {
        if (e.seq === 0) continue;
        // Seqs only grow (a lagging watcher may get adjacent text deltas coalesced into one, carrying the last seq).
        if (e.seq <= last) gaps++;
        last = e.seq;
        if (e.event.case === "textDelta") {
          hash.update(e.event.value.text);
          bytes += Buffer.byteLength(e.event.value.text);
        }
        if (isTerminal(e)) {
          expect(e.event.case).toBe("completed");
          break;
        }
        if (!cut && bytes > tenMB / 2) {
          cut = true;
          proxy.faultAll({ kind: "reset" });
        }
      }
    } finally {
      await proxy.close();
    }
    // The log's own copy, read directly.
    const direct = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    const ref = createHash("sha256");
    let refLast = 0;
    for await (const res of direct.watchStream({ streamId, cursor: "" })) {
      const e = res.event;
      if (!e || e.seq === 0) continue;
      refLast = e.seq;
      if (e.event.case === "textDelta") ref.update(e.event.value.text);
      if (isTerminal(e)) break;
    }
    console.log(`${name}: ${(bytes / 1024 / 1024).toFixed(1)} MB in ${last} events, cut once half-way, ${retries} resume(s)`);
    expect(bytes).toBeGreaterThan(tenMB);
    expect(cut).toBe(true);
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(gaps).toBe(0);
    expect(last).toBe(refLast);
    expect(hash.digest("hex")).toBe(ref.digest("hex"));
  });
});
