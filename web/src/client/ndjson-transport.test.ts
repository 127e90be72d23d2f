import { toJson } from "@bufbuild/protobuf";
import { ev, FinishReason, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createNdjsonTransport } from "./ndjson-transport.js";

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "s", epoch: "E", seq });
const line = (e: StreamEvent) => `${JSON.stringify({ cursor: `E:${e.seq}`, event: toJson(StreamEventSchema, e) })}\n`;

/** A fetch answering with an NDJSON body sent in `chunks`. */
function answering(chunks: string[]): typeof globalThis.fetch {
  return async () => {
    const bytes = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(bytes.encode(chunk));
        c.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "application/x-ndjson" } });
  };
}

async function watch(fetch: typeof globalThis.fetch, maxLineChars?: number) {
  const t = createNdjsonTransport({ baseUrl: "http://gw", fetch, ...(maxLineChars ? { maxLineChars } : {}) });
  const events: string[] = [];
  try {
    for await (const e of t.watch("s", undefined, new AbortController().signal)) events.push(`${e.seq} ${e.event.case}`);
    return { events, error: undefined };
  } catch (e) {
    return { events, error: ConnectError.from(e) };
  }
}

describe("createNdjsonTransport", () => {
  it("reads lines however the body is split, CRLF and blank lines included", async () => {
    const text = `${line(at(1, ev.started("m", "p"))).replace("\n", "\r\n")}\n${line(at(2, ev.textDelta("héllo 🦜")))}${line(at(3, ev.completed(FinishReason.STOP)))}`;
    const whole = await watch(answering([text]));
    const bytewise = await watch(answering([...text]));
    expect(whole).toEqual({ events: ["1 started", "2 textDelta", "3 completed"], error: undefined });
    expect(bytewise).toEqual(whole);
  });

  it("raises Code.ResourceExhausted for a line over maxLineChars, after the lines before it", async () => {
    const got = await watch(answering([line(at(1, ev.started("m", "p"))), `{"pad":"${"x".repeat(200)}`, `${"y".repeat(200)}"}\n`]), 300);
    expect(got.events).toEqual(["1 started"]);
    expect(got.error?.code).toBe(Code.ResourceExhausted);
  });

  it("raises the error line's code", async () => {
    const got = await watch(answering([`${JSON.stringify({ error: { code: "not_found", message: "stream not found" } })}\n`]));
    expect(got.error?.code).toBe(Code.NotFound);
    expect(got.error?.rawMessage).toBe("stream not found");
  });
});
