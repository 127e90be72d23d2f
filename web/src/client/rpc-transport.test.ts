import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CreateStreamRequestSchema,
  CreateStreamResponseSchema,
  ev,
  FinishReason,
  type StreamEvent,
  WatchStreamRequestSchema,
} from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { createConnectStreamTransport } from "./connect-transport.js";
import { createGrpcWebStreamTransport } from "./grpc-web-transport.js";
import { drain } from "../testing/drain.js";

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "s", epoch: "E", seq });
const started = at(1, ev.started("sim", "simulator"));
const done = at(2, ev.completed(FinishReason.STOP));
const enc = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) out.set(p, i), (i += p.length);
  return out;
}
const message = (e: StreamEvent) =>
  encodeEnvelope(0, toBinary(CreateStreamResponseSchema, create(CreateStreamResponseSchema, { event: e })));
const connectEnd = (json: object) => encodeEnvelope(2, enc.encode(JSON.stringify(json)));
const grpcWebTrailer = (text: string) => encodeEnvelope(0x80, enc.encode(text));

/** A fetch answering every call with `body` (or throwing it), recording request bodies. */
function fakeFetch(contentType: string, body: Uint8Array<ArrayBuffer> | Error) {
  const requests: Uint8Array[] = [];
  const fetch = async (_url: unknown, init?: RequestInit) => {
    requests.push(new Uint8Array(init?.body as ArrayBuffer));
    if (body instanceof Error) throw body;
    return new Response(body, { status: 200, headers: { "Content-Type": contentType } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const req = create(CreateStreamRequestSchema, { streamId: "abcdefghijklmnopqrstuv", request: { model: "simulator" } });
const signal = () => new AbortController().signal;

describe("createConnectStreamTransport", () => {
  const ct = "application/connect+proto";

  it("yields the events of a complete response", async () => {
    const { fetch } = fakeFetch(ct, concat(message(started), message(done), connectEnd({})));
    const got = await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, signal()));
    expect(got).toEqual({ kinds: ["started", "completed"] });
  });

  it("sends the cursor of a watch", async () => {
    const { fetch, requests } = fakeFetch(ct, concat(message(done), connectEnd({})));
    await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).watch("abc", { epoch: "E", seq: 7 }, signal()));
    const sent = fromBinary(WatchStreamRequestSchema, requests[0]!.subarray(5));
    expect([sent.streamId, sent.cursor]).toEqual(["abc", "E:7"]);
  });

  it.each([
    ["a missing end-of-stream message", concat(message(started))],
    ["a partial envelope", concat(message(started), message(done).subarray(0, 7))],
  ])("raises Code.Unavailable for %s", async (_, body) => {
    const { fetch } = fakeFetch(ct, body);
    const got = await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, signal()));
    expect(got.kinds).toEqual(["started"]);
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("raises Code.Unavailable for a network error", async () => {
    const { fetch } = fakeFetch(ct, new TypeError("Failed to fetch"));
    const got = await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, signal()));
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("keeps the code of an error from the server", async () => {
    const { fetch } = fakeFetch(ct, connectEnd({ error: { code: "not_found", message: "no such stream" } }));
    const got = await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).watch("abc", undefined, signal()));
    expect(got.error?.code).toBe(Code.NotFound);
  });

  it("raises Code.Canceled on abort", async () => {
    const { fetch } = fakeFetch(ct, concat(message(started), message(done), connectEnd({})));
    const got = await drain(createConnectStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, AbortSignal.abort()));
    expect(got.error?.code).toBe(Code.Canceled);
  });
});

describe("createGrpcWebStreamTransport", () => {
  const ct = "application/grpc-web+proto";

  it("yields the events of a complete response", async () => {
    const { fetch } = fakeFetch(ct, concat(message(started), message(done), grpcWebTrailer("grpc-status: 0\r\n")));
    const got = await drain(createGrpcWebStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, signal()));
    expect(got).toEqual({ kinds: ["started", "completed"] });
  });

  it("raises Code.Unavailable for a missing trailer", async () => {
    const { fetch } = fakeFetch(ct, concat(message(started)));
    const got = await drain(createGrpcWebStreamTransport({ baseUrl: "http://gw.test", fetch }).create(req, signal()));
    expect(got.kinds).toEqual(["started"]);
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("keeps the code of a trailer error", async () => {
    const { fetch } = fakeFetch(ct, grpcWebTrailer("grpc-status: 11\r\ngrpc-message: trimmed\r\n"));
    const got = await drain(createGrpcWebStreamTransport({ baseUrl: "http://gw.test", fetch }).watch("abc", undefined, signal()));
    expect(got.error?.code).toBe(Code.OutOfRange);
  });
});
