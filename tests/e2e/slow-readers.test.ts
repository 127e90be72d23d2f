/**
 * Slow readers cost no more than the log: 50 SSE watchers that never read
 * sit beside 50 that do, on one large answer. The gateway's memory stays
 * bounded (printed), each stalled watcher is closed by the write deadline
 * with what it was sent so far being a resumable prefix, and the normal
 * watchers lose nothing.
 */
import { createHash, type Hash } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { newStreamId } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";

const slowCount = 50;
const normalCount = 50;
const writeTimeoutMs = 1000;
const heapCapMiB = 160;

let aw: AirwaveProcess;
beforeAll(async () => {
  // The inference service runs apart, so the gateway's memory is the gateway's own; the
  // gateway's JavaScript heap is capped below what per-watcher queues of the answer would need
  // (50 × 6 MB), so unbounded buffering would crash it.
  aw = await startAirwaveProcess(
    {
      AIRWAVE_WRITE_TIMEOUT_MS: String(writeTimeoutMs),
      AIRWAVE_LOG_MAX_BYTES: String(64 * 1024 * 1024),
      NODE_OPTIONS: `--max-old-space-size=${heapCapMiB}`,
    },
    { separateInference: true },
  );
});
afterAll(async () => {
  await aw?.stop();
});

/** The gateway process's resident memory, in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

interface Read {
  ids: string[];
  /** The seqs of the ids, for order checks (a lagging reader may get text deltas coalesced, so seqs may skip). */
  seqs: number[];
  hash: Hash;
  terminal: boolean;
}

/** Reads SSE events from a body, feeding the text of text_delta events to `hash`. */
async function readEvents(body: ReadableStream<Uint8Array>, hash: Hash = createHash("sha256")): Promise<Read> {
  const ids: string[] = [];
  let terminal = false;
  try {
    for await (const m of body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())) {
      if (m.event === "resumed") continue; // its id is the cursor it resumed after
      if (m.id) ids.push(m.id);
      if (m.event === "text_delta") hash.update((JSON.parse(m.data) as { textDelta: { text: string } }).textDelta.text);
      if (m.event === "completed" || m.event === "failed") {
        terminal = true;
        break;
      }
    }
  } catch {
    // cut off: what was read so far counts
  }
  return { ids, seqs: ids.map((c) => Number(c.split(":")[1])), hash, terminal };
}

/** Opens an SSE watch that does not read: the response is paused at once. */
function stalledWatch(url: string): Promise<http.IncomingMessage> {
  return new Promise((ok, fail) => {
    const req = http.get(url, { headers: { accept: "text/event-stream" } }, (res) => {
      res.pause();
      ok(res);
    });
    req.on("error", fail);
  });
}

describe(`${slowCount} watchers that never read beside ${normalCount} that do`, () => {
  it("keeps memory bounded, closes the stalled ones resumably, and loses nothing for the others", { timeout: 120_000 }, async () => {
    const pid = aw.child.pid!;
    const baseline = rssMiB(pid);
    const id = newStreamId();
    // A large, fast answer: ~6 MB in ~5,000 events, more than a stalled socket's buffers absorb.
    const create = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        streamId: id,
        onDetach: "ON_DETACH_CONTINUE",
        request: {
          model: "simulator",
          messages: [{ role: "ROLE_USER", parts: [{ text: "slow readers" }] }],
          metadata: {
            "simulator.output_tokens": "1000000",
            "simulator.delta_tokens": "200",
            "simulator.tokens_per_s": "2000",
            "simulator.ttft_ms": "200",
          },
        },
      }),
    });
    expect(create.status).toBe(200);
    const events = `${aw.url}/v1/streams/${id}/events`;
    const slow = await Promise.all(Array.from({ length: slowCount }, () => stalledWatch(events)));
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
    // The normal readers: the creator of the large answer, and other streams of ordinary size.
    const others = Array.from({ length: normalCount - 1 }, async (_, i) => {
      const res = await fetch(`${aw.url}/v1/streams`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({
          request: {
            model: "simulator",
            messages: [{ role: "ROLE_USER", parts: [{ text: `an ordinary answer ${i}` }] }],
            metadata: { "simulator.output_tokens": "300", "simulator.tokens_per_s": "200", "simulator.ttft_ms": "50" },
          },
        }),
      });
      return readEvents(res.body!);
    });
    const [big, ...small] = await Promise.all([readEvents(create.body!), ...others]);
    clearInterval(sampler);
    const after = rssMiB(pid);

    // Every normal reader got every event of its stream, in order, once.
    const reference = big!;
    const referenceHash = reference.hash.digest("hex");
    const increasing = (seqs: number[]) => seqs.every((q, k) => k === 0 || q > seqs[k - 1]!);
    expect(reference.terminal).toBe(true);
    expect(increasing(reference.seqs)).toBe(true);
    for (const r of small) {
      expect(r.terminal).toBe(true);
      expect(r.seqs).toEqual(r.seqs.map((_, k) => k + 1));
    }

    // Each stalled watcher was closed by the gateway before the end; what it got is a prefix it
    // can resume from (every fifth resumes to the end here, to keep the test quick).
    let resumed = 0;
    for (const [k, res] of slow.entries()) {
      res.resume();
      const got = await readEvents(readableFrom(res));
      expect(got.terminal).toBe(false);
      expect(increasing(got.seqs)).toBe(true);
      expect(got.seqs.at(-1) ?? 0).toBeLessThan(reference.seqs.at(-1)!);
      if (k % 5 !== 0) continue;
      // Resuming from its last id completes the answer exactly: the same text as the reference.
      const rest = await readEvents(
        (await fetch(events, { headers: { accept: "text/event-stream", "last-event-id": got.ids.at(-1) ?? "" } })).body!,
        got.hash,
      );
      expect(rest.terminal).toBe(true);
      expect(increasing([...got.seqs, ...rest.seqs])).toBe(true);
      expect(rest.hash.digest("hex")).toBe(referenceHash);
      resumed++;
    }
    console.log(
      [
        `slow readers: ${slowCount} stalled watchers of one answer of ${reference.ids.length} events (~6 MB), beside its creator and ${normalCount - 1} ordinary streams, all complete`,
        `  gateway RSS: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, after ${after.toFixed(0)} MiB (JS heap capped at ${heapCapMiB} MiB)`,
        `  stalled watchers closed by the ${writeTimeoutMs} ms write deadline: ${slowCount}/${slowCount}, of which ${resumed} resumed to the end from their last id`,
      ].join("\n"),
    );
    expect(resumed).toBe(Math.ceil(slowCount / 5));
    // Bounded: the gateway lived through it under its heap cap.
    expect(aw.child.exitCode).toBeNull();
  });
});

/** A web ReadableStream over a Node response. */
function readableFrom(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      res.on("data", (b: Buffer) => c.enqueue(new Uint8Array(b)));
      res.on("end", () => c.close());
      res.on("error", () => c.close());
      res.on("close", () => {
        try {
          c.close();
        } catch {
          // already closed
        }
      });
    },
  });
}
