import { toJson } from "@bufbuild/protobuf";
import { ev, eventKindName, FinishReason, InputKind, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createConnectionGuard } from "./connection-guard.js";
import { type AirwaveClientOptions, createAirwaveClient, defaultFallback, transportNames } from "./airwave-client.js";
import type { FallbackInfo } from "./resume-loop.js";
import type { WebSocketConstructor } from "./websocket-transport.js";

/** A WebSocket whose handshake always fails, as behind a proxy that blocks upgrades. */
class RefusedSocket extends EventTarget {
  static opened = 0;
  readyState = 0;
  binaryType = "blob";
  constructor() {
    super();
    RefusedSocket.opened++;
    queueMicrotask(() => {
      this.readyState = 3;
      this.dispatchEvent(Object.assign(new Event("close"), { code: 1006, reason: "" }));
    });
  }
  send(): void {
    throw new Error("not open");
  }
  close(): void {}
}

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "S", epoch: "E", seq });
const sse = (...events: StreamEvent[]) =>
  events.map((e) => `id: E:${e.seq}\nevent: ${eventKindName(e)}\ndata: ${JSON.stringify(toJson(StreamEventSchema, e))}\n\n`).join("");

/** A fetch playing the gateway's HTTP routes, recording each request. */
function fakeGateway() {
  const requests: { method: string; url: string; body: string; auth: string | null }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    requests.push({ method: init?.method ?? "GET", url, body: String(init?.body ?? ""), auth: headers.get("Authorization") });
    if (url.endsWith("/v1/streams")) {
      return new Response(
        sse(
          at(1, ev.started("m", "p")),
          at(2, ev.inputRequested("in-1", "ok?", InputKind.CONFIRM)),
          at(3, ev.completed(FinishReason.STOP)),
        ),
        {
          headers: { "Content-Type": "text/event-stream" },
        },
      );
    }
    if (url.endsWith(":input")) return Response.json({ inputId: "in-1" });
    if (url.endsWith(":cancel")) return Response.json({});
    return new Response("{}", { status: 404 });
  };
  return { fetch, requests };
}

/** A client of the fake gateway whose WebSocket is always refused (the count of attempts reset). */
function clientWithRefusedSocket(o: Pick<AirwaveClientOptions, "transport" | "apiKey" | "guard">) {
  const gw = fakeGateway();
  RefusedSocket.opened = 0;
  const client = createAirwaveClient({
    baseUrl: "http://127.0.0.1:9",
    fetch: gw.fetch,
    WebSocket: RefusedSocket as unknown as WebSocketConstructor,
    ...o,
  });
  return { gw, client };
}
describe("createAirwaveClient", () => {
  it("offers every transport", () => {
    expect(transportNames).toEqual(["connect", "grpc-web", "sse", "sse-fetch", "ndjson", "websocket", "long-poll"]);
    expect(defaultFallback.websocket).toEqual(["sse", "long-poll"]);
  });

  it("falls back from a blocked WebSocket to SSE, and then sends input and cancel over SSE's routes", async () => {
    const { gw, client } = clientWithRefusedSocket({ transport: "websocket", apiKey: "k1", guard: createConnectionGuard() });
    const fallbacks: FallbackInfo[] = [];
    const stream = client.stream(
      { streamId: "S", request: { model: "simulator" } },
      { backoff: { delay: async () => {} }, onFallback: (f) => fallbacks.push(f) },
    );
    const kinds: string[] = [];
    for await (const e of stream) {
      kinds.push(eventKindName(e));
      if (e.seq === 2) {
        expect(await client.sendInput(stream.streamId, "in-1", "yes")).toBe("in-1");
        await client.cancel(stream.streamId, "bye");
      }
    }
    expect(RefusedSocket.opened).toBe(3);
    expect(fallbacks.map((f) => [f.from, f.to])).toEqual([["websocket", "sse"]]);
    expect(kinds[0]).toBe("started");
    expect(kinds[kinds.length - 1]).toBe("completed");
    expect(gw.requests.map((r) => `${r.method} ${r.url} ${r.auth}`)).toEqual([
      "POST http://127.0.0.1:9/v1/streams Bearer k1",
      "POST http://127.0.0.1:9/v1/streams/S:input Bearer k1",
      "POST http://127.0.0.1:9/v1/streams/S:cancel Bearer k1",
    ]);
    expect(JSON.parse(gw.requests[1]?.body ?? "")).toEqual({ inputId: "in-1", text: "yes" });
  });

  it("uses no fallback unless the transport has one, and honours an explicit chain", async () => {
    const { client } = clientWithRefusedSocket({ transport: "sse-fetch", guard: null });
    const ws = client.stream(
      { streamId: "S" },
      { transport: "websocket", fallback: [], backoff: { delay: async () => {}, maxAttempts: 2 } },
    );
    await expect(
      (async () => {
        for await (const _ of ws);
      })(),
    ).rejects.toMatchObject({ code: Code.Unavailable });
    expect(RefusedSocket.opened).toBe(3);
    const kinds: string[] = [];
    for await (const e of client.stream({ streamId: "S" })) kinds.push(eventKindName(e));
    expect(kinds[kinds.length - 1]).toBe("completed");
  });

  it("asks the gateway to coalesce when its update policy says so, on the create and on watches", async () => {
    const requests: { url: string; body: string }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      requests.push({ url: String(input), body: String(init?.body ?? "") });
      return new Response(sse(at(1, ev.started("m", "p")), at(2, ev.completed(FinishReason.STOP))), {
        headers: { "Content-Type": "text/event-stream" },
      });
    };
    const policy = { current: { coalesceMs: 500 } };
    const client = createAirwaveClient({ baseUrl: "http://gw", transport: "sse-fetch", fetch, guard: null, updatePolicy: policy });
    for await (const _ of client.stream({ streamId: "S", request: { model: "m" } }));
    for await (const _ of client.watch("S"));
    policy.current = { coalesceMs: 0 }; // the link got faster: read at each attempt
    for await (const _ of client.watch("S"));
    for await (const _ of client.watch("S", undefined, { coalesceMs: 250 })); // per stream
    expect(JSON.parse(requests[0]?.body ?? "")).toMatchObject({ streamId: "S", coalesceMs: 500 });
    expect(requests.slice(1).map((r) => r.url)).toEqual([
      "http://gw/v1/streams/S/events?coalesce_ms=500",
      "http://gw/v1/streams/S/events",
      "http://gw/v1/streams/S/events?coalesce_ms=250",
    ]);
    const off = createAirwaveClient({ baseUrl: "http://gw", transport: "sse-fetch", fetch, guard: null, updatePolicy: false });
    for await (const _ of off.stream({ streamId: "T", request: { model: "m" }, coalesceMs: 100 })); // the request's own
    expect(JSON.parse(requests[4]?.body ?? "")).toMatchObject({ coalesceMs: 100 });
  });
});
