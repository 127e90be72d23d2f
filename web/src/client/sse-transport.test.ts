import { create, toJson, toJsonString } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, ev, eventKindName, FinishReason, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { streamWithResume } from "./resume-loop.js";
import { type EventSourceConstructor, createSseFetchTransport, createSseTransport } from "./sse-transport.js";
import { drain } from "../testing/drain.js";

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "s", epoch: "E", seq });
const frame = (e: StreamEvent) => `id: E:${e.seq}\nevent: ${eventKindName(e)}\ndata: ${toJsonString(StreamEventSchema, e)}\n\n`;
const started = at(1, ev.started("sim", "simulator"));
const hello = at(2, ev.textDelta("hello"));
const done = at(3, ev.completed(FinishReason.STOP));

/** Enough of an EventSource to drive the transport by hand. */
class FakeEventSource extends EventTarget {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  constructor(readonly url: string) {
    super();
    FakeEventSource.instances.push(this);
  }
  close(): void {
    this.readyState = 2;
  }
  /** A server event (`event: <type>`). */
  send(e: StreamEvent): void {
    this.dispatchEvent(new MessageEvent(eventKindName(e), { data: toJsonString(StreamEventSchema, e) }));
  }
  /** The EventSource's own error; `readyState` 2 (CLOSED) means it refused the response. */
  fail(readyState: 0 | 2): void {
    this.readyState = readyState;
    this.dispatchEvent(new Event("error"));
  }
}
const ES = FakeEventSource as unknown as EventSourceConstructor;
const last = () => FakeEventSource.instances.at(-1)!;
const tick = () => new Promise((r) => setTimeout(r, 0));

interface Sent {
  url: string;
  init: RequestInit | undefined;
}
/** A fetch that answers each call with the next response and records the requests. */
function fakeFetch(...responses: (Response | Error)[]): { fetch: typeof globalThis.fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), init });
    const r = responses.shift();
    if (r === undefined) throw new Error("unexpected fetch");
    if (r instanceof Error) throw r;
    return r;
  };
  return { fetch: fetch as typeof globalThis.fetch, sent };
}
const sse = (text: string) => new Response(text, { headers: { "Content-Type": "text/event-stream" } });
const jsonError = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ code, message }), { status, headers: { "Content-Type": "application/json" } });

const req = create(CreateStreamRequestSchema, { streamId: "abcdefghijklmnopqrstuv", request: { model: "simulator" } });

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe("createSseTransport().create", () => {
  it("POSTs the request as canonical JSON and reads the SSE answer", async () => {
    const { fetch, sent } = fakeFetch(sse(`${frame(started)}: hb\n\n${frame(hello)}${frame(done)}`));
    const t = createSseTransport({ baseUrl: "http://gw.test/", fetch });
    expect(await drain(t.create(req, new AbortController().signal))).toEqual({ kinds: ["started", "text_delta", "completed"] });
    expect(sent[0]?.url).toBe("http://gw.test/v1/streams");
    expect(sent[0]?.init?.method).toBe("POST");
    expect(sent[0]?.init?.headers).toMatchObject({ "Content-Type": "application/json", Accept: "text/event-stream" });
    expect(JSON.parse(String(sent[0]?.init?.body))).toEqual(toJson(CreateStreamRequestSchema, req));
  });

  it("raises the code of a non-2xx JSON error", async () => {
    const { fetch } = fakeFetch(jsonError(400, "invalid_argument", "model is required"));
    const got = await drain(createSseTransport({ baseUrl: "", fetch }).create(req, new AbortController().signal));
    expect(got.error?.code).toBe(Code.InvalidArgument);
    expect(got.error?.rawMessage).toBe("model is required");
  });

  it("raises a code from the HTTP status when the error body is not JSON", async () => {
    const { fetch } = fakeFetch(new Response("bad gateway", { status: 502 }));
    const got = await drain(createSseTransport({ baseUrl: "", fetch }).create(req, new AbortController().signal));
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("raises Code.Unavailable for a network error", async () => {
    const { fetch } = fakeFetch(new TypeError("Failed to fetch"));
    const got = await drain(createSseTransport({ baseUrl: "", fetch }).create(req, new AbortController().signal));
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("raises an in-stream `event: error`", async () => {
    const { fetch } = fakeFetch(sse(`${frame(started)}event: error\ndata: {"code":"unavailable","message":"owner lost"}\n\n`));
    const got = await drain(createSseTransport({ baseUrl: "", fetch }).create(req, new AbortController().signal));
    expect(got.kinds).toEqual(["started"]);
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("refuses a response that is not an event stream", async () => {
    const { fetch } = fakeFetch(new Response("<html>", { headers: { "Content-Type": "text/html" } }));
    const got = await drain(createSseTransport({ baseUrl: "", fetch }).create(req, new AbortController().signal));
    expect(got.error?.code).toBe(Code.Unknown);
  });
});

describe("createSseTransport().watch", () => {
  const t = (fetch?: typeof globalThis.fetch) => createSseTransport({ baseUrl: "http://gw.test", EventSource: ES, fetch });

  it("opens an EventSource after the cursor and closes it after the terminal event", async () => {
    const it = t().watch("abc", { epoch: "E", seq: 1 }, new AbortController().signal);
    const got = drain(it);
    await tick();
    const es = last();
    expect(es.url).toBe("http://gw.test/v1/streams/abc/events?after=E%3A1");
    es.send(hello);
    es.send(done);
    es.send(at(4, ev.textDelta("never")));
    expect(await got).toEqual({ kinds: ["text_delta", "completed"] });
    expect(es.readyState).toBe(2);
  });

  it("watches from the start without a cursor", async () => {
    const got = drain(t().watch("abc", undefined, new AbortController().signal));
    await tick();
    expect(last().url).toBe("http://gw.test/v1/streams/abc/events");
    last().send(done);
    await got;
  });

  it("closes on a dropped connection and raises Code.Unavailable instead of reconnecting", async () => {
    const got = drain(t().watch("abc", undefined, new AbortController().signal));
    await tick();
    last().send(started);
    last().fail(0);
    expect(await got).toMatchObject({ kinds: ["started"], error: { code: Code.Unavailable } });
    expect(last().readyState).toBe(2);
  });

  it("asks fetch why a refused EventSource was refused", async () => {
    const { fetch, sent } = fakeFetch(jsonError(404, "not_found", "stream not found"));
    const got = drain(t(fetch).watch("abc", undefined, new AbortController().signal));
    await tick();
    last().fail(2);
    expect(await got).toMatchObject({ kinds: [], error: { code: Code.NotFound } });
    expect(sent[0]?.url).toBe("http://gw.test/v1/streams/abc/events");
  });

  it("raises a server `event: error` with its code", async () => {
    const got = drain(t().watch("abc", undefined, new AbortController().signal));
    await tick();
    last().dispatchEvent(new MessageEvent("error", { data: `{"code":"out_of_range","message":"trimmed"}` }));
    expect(await got).toMatchObject({ error: { code: Code.OutOfRange, rawMessage: "trimmed" } });
    expect(last().readyState).toBe(2);
  });

  it("closes on abort and raises Code.Canceled", async () => {
    const ac = new AbortController();
    const got = drain(t().watch("abc", undefined, ac.signal));
    await tick();
    ac.abort();
    expect(await got).toMatchObject({ error: { code: Code.Canceled } });
    expect(last().readyState).toBe(2);
  });
});

describe("createSseTransport().cancel", () => {
  it("POSTs to :cancel with the reason", async () => {
    const { fetch, sent } = fakeFetch(new Response("{}", { status: 200 }));
    await createSseTransport({ baseUrl: "http://gw.test", fetch }).cancel("abc", "user pressed stop");
    expect(sent[0]?.url).toBe("http://gw.test/v1/streams/abc:cancel");
    expect(JSON.parse(String(sent[0]?.init?.body))).toEqual({ reason: "user pressed stop" });
  });

  it("raises the code of the error", async () => {
    const { fetch } = fakeFetch(jsonError(404, "not_found", "no such stream"));
    await expect(createSseTransport({ baseUrl: "", fetch }).cancel("abc")).rejects.toMatchObject({ code: Code.NotFound });
  });
});

describe("the resume loop over SSE", () => {
  it("creates with fetch, then resumes with an EventSource after the last cursor", async () => {
    const { fetch } = fakeFetch(sse(frame(started) + frame(hello))); // the response ends before the terminal event
    const transport = createSseTransport({ baseUrl: "http://gw.test", fetch, EventSource: ES });
    const got = drain(streamWithResume(transport, req, { backoff: { delay: async () => {} } }));
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1)); // the resume opened its EventSource
    const es = last();
    expect(es.url).toBe("http://gw.test/v1/streams/abcdefghijklmnopqrstuv/events?after=E%3A2");
    es.dispatchEvent(new MessageEvent("resumed", { data: `{"resumed":{"outcome":"RESUME_OUTCOME_RECOVERED","cursor":"E:2"}}` }));
    es.send(hello); // a duplicate
    es.send(done);
    expect(await got).toEqual({ kinds: ["started", "text_delta", "resumed", "completed"] });
  });
});

describe("sse-fetch (watchWith: fetch) and sendInput", () => {
  it("watches with fetch after the cursor, without an EventSource", async () => {
    FakeEventSource.instances = [];
    const { fetch, sent } = fakeFetch(sse(frame(hello) + frame(done)));
    const t = createSseFetchTransport({ baseUrl: "http://gw/", fetch });
    const got = await drain(t.watch("s/1", { epoch: "E", seq: 1 }, new AbortController().signal));
    expect(got).toEqual({ kinds: ["text_delta", "completed"] });
    expect(sent.map((s) => [s.url, new Headers(s.init?.headers).get("Accept")])).toEqual([
      ["http://gw/v1/streams/s%2F1/events?after=E%3A1", "text/event-stream"],
    ]);
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it("POSTs the input to :input and resolves to the answered input id", async () => {
    const { fetch, sent } = fakeFetch(Response.json({ inputId: "in-7" }), jsonError(400, "failed_precondition", "already answered"));
    const t = createSseTransport({ baseUrl: "http://gw", fetch, EventSource: ES });
    expect(await t.sendInput("s", "", "yes")).toBe("in-7");
    expect([sent[0]?.url, sent[0]?.init?.method, JSON.parse(String(sent[0]?.init?.body))]).toEqual([
      "http://gw/v1/streams/s:input",
      "POST",
      { inputId: "", text: "yes" },
    ]);
    await expect(t.sendInput("s", "in-7", "yes")).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });
});
