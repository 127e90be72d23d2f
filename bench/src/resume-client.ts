/**
 * The resume client for Airwave's SSE routes: starts a stream with a
 * client-chosen id (`ON_DETACH_CONTINUE`), reads a few events, drops the
 * connection, and resumes with `Last-Event-ID` after a gap, checking that
 * the events after the cursor arrive with no gap and no duplicate.
 * @module
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { toJsonString } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, OnDetach } from "@airwave/proto";
import { createStreamRequest } from "./targets.ts";
import { nowUs } from "./token-clock.ts";

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

interface SseEvent {
  id: string;
  event: string;
  recvUs: number;
}

/** Opens an SSE request and calls `onEvent` per event until it returns false, the response ends, or it fails. */
function sse(
  method: "POST" | "GET",
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  onEvent: (e: SseEvent) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        agent,
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: { accept: "text/event-stream", ...headers },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        res.setEncoding("utf8");
        let buf = "";
        res.on("data", (s: string) => {
          const recvUs = nowUs();
          buf += s;
          let i: number;
          while ((i = buf.indexOf("\n\n")) !== -1) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let id = "";
            let event = "message";
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("event: ")) event = line.slice(7);
            }
            if (!onEvent({ id, event, recvUs })) {
              req.destroy();
              resolve();
              return;
            }
          }
        });
        res.on("end", () => resolve());
        res.on("error", () => resolve());
      },
    );
    req.on("error", (e) => (req.destroyed ? resolve() : reject(e)));
    req.end(body);
  });
}

const seqOf = (id: string) => Number(id.slice(id.lastIndexOf(":") + 1));

/** What one resume measured. */
export interface ResumeOutcome {
  /** Resume request sent → first replayed (logged) event arrived, µs; undefined if none came. */
  firstReplayUs: number | undefined;
  /** Seqs missing after the cursor, and seqs delivered twice or at/before the cursor. */
  gaps: number;
  duplicates: number;
}

/** Starts a stream of `model` and returns once `readFirst` text events arrived and the connection was dropped; `resume()` then resumes it. */
export async function startAndDrop(gatewayUrl: string, model: string, readFirst: number): Promise<{ resume(): Promise<ResumeOutcome> }> {
  const streamId = randomBytes(16).toString("base64url");
  const ids: string[] = [];
  const body = toJsonString(CreateStreamRequestSchema, createStreamRequest(model, OnDetach.CONTINUE, streamId));
  await sse("POST", `${gatewayUrl}/v1/streams`, { "content-type": "application/json" }, body, (e) => {
    if (e.id !== "" && e.event !== "resumed") ids.push(e.id);
    return e.event !== "text_delta" || ids.length < readFirst + 1;
  });
  // The cursor is 3 events before the last one received, as if those were
  // lost in flight: there is always something to replay, even with no gap.
  const cursor = ids[Math.max(0, ids.length - 4)] as string;
  return {
    async resume() {
      const after = seqOf(cursor);
      const seen: number[] = [];
      let first: number | undefined;
      const t0 = nowUs();
      await sse("GET", `${gatewayUrl}/v1/streams/${streamId}/events`, { "last-event-id": cursor }, undefined, (e) => {
        if (e.event === "resumed" || e.id === "") return true;
        if (first === undefined) first = e.recvUs - t0;
        seen.push(seqOf(e.id));
        return seen.length < 10 && e.event !== "completed" && e.event !== "failed";
      });
      let duplicates = 0;
      let gaps = 0;
      let expect = after + 1;
      for (const s of seen) {
        if (s < expect) duplicates++;
        else {
          gaps += s - expect;
          expect = s + 1;
        }
      }
      return { firstReplayUs: first, gaps, duplicates };
    },
  };
}
