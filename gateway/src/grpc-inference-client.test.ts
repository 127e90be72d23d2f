import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { ev, FinishReason, InferenceService, type InteractRequest, InteractRequestSchema, type StreamEvent } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrpcInferenceClient, type InferenceClient } from "./grpc-inference-client.js";

/** What the server saw of the last call of each model. */
const seen = new Map<string, { aborted: Promise<void>; inputs: string[] }>();

/** Interact, scripted by the model name of `start`. */
async function* interact(reqs: AsyncIterable<InteractRequest>, ctx: HandlerContext): AsyncGenerator<{ event: StreamEvent }> {
  const it = reqs[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.message.case !== "start") throw new ConnectError("start first", Code.InvalidArgument);
  const model = first.value.message.value.model;
  const s = { aborted: new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r(), { once: true })), inputs: [] as string[] };
  seen.set(model, s);
  const hang = () => new Promise<never>((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)));
  switch (model) {
    case "refuse":
      throw new ConnectError("no such model", Code.NotFound, { "airwave-reason": "MODEL_NOT_FOUND", "retry-after-ms": "5" });
    case "break":
      yield { event: ev.started(model, "t") };
      yield { event: ev.textDelta("a") };
      throw new ConnectError("provider went away", Code.Unavailable);
    case "hang":
      yield { event: ev.started(model, "t") };
      await hang();
      return;
    case "echo": {
      // Answers each input until the gateway half-closes.
      yield { event: ev.started(model, "t") };
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value.message.case === "input") {
          s.inputs.push(r.value.message.value.text);
          yield { event: ev.inputAnswered(r.value.message.value.inputId, r.value.message.value.text) };
        }
      }
      yield { event: ev.completed(FinishReason.STOP) };
      return;
    }
    default: {
      // "n<N>": N deltas then completed, as fast as the transport takes them.
      const n = Number(/^n(\d+)$/.exec(model)?.[1] ?? 3);
      yield { event: ev.started(model, "t") };
      for (let i = 0; i < n; i++) yield { event: ev.textDelta(`t${i} ´`) };
      yield { event: ev.completed(FinishReason.STOP, { outputTokens: n }) };
    }
  }
}

let server: http2.Http2Server;
let url = "";
/** The RST_STREAM code of each finished HTTP/2 stream at the server (0: ended without a reset), in order. */
const rstCodes: Promise<number>[] = [];
const clients: { name: string; client: InferenceClient; close(): void }[] = [];

beforeAll(async () => {
  server = http2.createServer(
    connectNodeAdapter({ routes: (r) => r.service(InferenceService, { generate: () => ({}) as never, interact }) }),
  );
  server.on("stream", (s: http2.ServerHttp2Stream) => rstCodes.push(new Promise((r) => s.once("close", () => r(s.rstCode)))));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const g = createGrpcInferenceClient({ baseUrl: url, pingIntervalMs: 10_000 });
  clients.push({ name: "connect-node", client: createClient(InferenceService, createGrpcTransport({ baseUrl: url })), close() {} });
  clients.push({ name: "grpc-js", client: g, close: () => g.close() });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await new Promise((ok) => server.close(ok));
});

/** A request side that sends `start`, then `inputs`, then stays open until `close()`. */
function requests(model: string, inputs: { inputId: string; text: string }[] = []) {
  let close!: () => void;
  const closed = new Promise<void>((r) => (close = r));
  async function* gen() {
    yield create(InteractRequestSchema, { message: { case: "start", value: { model } } });
    for (const i of inputs) yield create(InteractRequestSchema, { message: { case: "input", value: i } });
    await closed;
  }
  return { it: gen(), close };
}

/** The events of a call, and how it ended: undefined, or the error's code, message and metadata. */
async function run(
  c: InferenceClient,
  model: string,
  o: { signal?: AbortSignal; timeoutMs?: number; inputs?: { inputId: string; text: string }[] } = {},
) {
  const r = requests(model, o.inputs);
  const events: StreamEvent[] = [];
  let error: { code: Code; message: string; reason: string | null; retry: string | null } | undefined;
  try {
    for await (const m of c.interact(r.it, { signal: o.signal, timeoutMs: o.timeoutMs })) {
      if (m.event) events.push(m.event);
      if (
        m.event?.event.case === "inputAnswered" &&
        events.filter((e) => e.event.case === "inputAnswered").length === (o.inputs ?? []).length
      )
        r.close();
    }
  } catch (e) {
    const ce = ConnectError.from(e);
    error = { code: ce.code, message: ce.rawMessage, reason: ce.metadata.get("airwave-reason"), retry: ce.metadata.get("retry-after-ms") };
  } finally {
    r.close();
  }
  return {
    kinds: events.map((e) => e.event.case),
    texts: events.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join(""),
    error,
  };
}

describe("createGrpcInferenceClient", () => {
  it("delivers every message in order, like the connect-node client", async () => {
    for (const model of ["n3", "n2000"]) {
      const [a, b] = await Promise.all(clients.map((c) => run(c.client, model)));
      expect(b).toEqual(a);
      expect(b?.error).toBeUndefined();
      expect(b?.kinds.length).toBe(Number(model.slice(1)) + 2);
      expect(b?.kinds.at(-1)).toBe("completed");
    }
  });

  it("raises a refusal with its code, message and metadata, like the connect-node client", async () => {
    const [a, b] = await Promise.all(clients.map((c) => run(c.client, "refuse")));
    expect(b).toEqual(a);
    expect(b?.error).toEqual({ code: Code.NotFound, message: "no such model", reason: "MODEL_NOT_FOUND", retry: "5" });
  });

  it("yields the messages before an error status, then raises it", async () => {
    const [a, b] = await Promise.all(clients.map((c) => run(c.client, "break")));
    expect(b).toEqual(a);
    expect(b?.kinds).toEqual(["started", "textDelta"]);
    expect(b?.error?.code).toBe(Code.Unavailable);
  });

  it("carries inputs on the request side while the call runs", async () => {
    for (const c of clients) {
      const out = await run(c.client, "echo", {
        inputs: [
          { inputId: "i1", text: "yes" },
          { inputId: "i2", text: "no" },
        ],
      });
      expect(out.kinds).toEqual(["started", "inputAnswered", "inputAnswered", "completed"]);
      expect(seen.get("echo")?.inputs).toEqual(["yes", "no"]);
    }
  });

  it("cancels the call when the signal aborts, raising the signal's reason; the server sees the abort", async () => {
    const g = clients.find((c) => c.name === "grpc-js")?.client as InferenceClient;
    const ac = new AbortController();
    const r = requests("hang");
    const it = g.interact(r.it, { signal: ac.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.event?.event.case).toBe("started");
    const pending = it.next();
    ac.abort(new ConnectError("cancelled (client)", Code.Canceled));
    await expect(pending).rejects.toMatchObject({ code: Code.Canceled, rawMessage: "cancelled (client)" });
    await seen.get("hang")?.aborted;
    r.close();
  });

  it("applies timeoutMs as the call's deadline: DEADLINE_EXCEEDED", async () => {
    const g = clients.find((c) => c.name === "grpc-js")?.client as InferenceClient;
    const out = await run(g, "hang", { timeoutMs: 200 });
    expect(out.kinds).toEqual(["started"]);
    expect(out.error?.code).toBe(Code.DeadlineExceeded);
    await seen.get("hang")?.aborted;
  });

  it("half-closes when the consumer leaves after the terminal event: the call ends without a reset", async () => {
    // One RST_STREAM per finished call would trip an HTTP/2 server's rapid-reset limit (GOAWAY for every call).
    const g = clients.find((c) => c.name === "grpc-js")?.client as InferenceClient;
    for (const model of ["n3", "n2000"]) {
      const r = requests(model); // the request side stays open: the client must half-close it
      const before = rstCodes.length;
      const kinds: string[] = [];
      for await (const m of g.interact(r.it)) {
        kinds.push(m.event?.event.case ?? "");
        if (m.event?.event.case === "completed") break;
      }
      expect(kinds.at(-1)).toBe("completed");
      expect(rstCodes.length).toBe(before + 1);
      expect(await rstCodes[before]).toBe(http2.constants.NGHTTP2_NO_ERROR);
      r.close();
    }
  });

  it("cancels a call left early that does not end by itself within drainGraceMs", async () => {
    const g = createGrpcInferenceClient({ baseUrl: url, drainGraceMs: 50 });
    const r = requests("hang");
    const before = rstCodes.length;
    for await (const m of g.interact(r.it)) {
      expect(m.event?.event.case).toBe("started");
      break;
    }
    await seen.get("hang")?.aborted; // resolves only when the server saw the cancel
    expect(await rstCodes[before]).toBe(http2.constants.NGHTTP2_CANCEL);
    r.close();
    g.close();
  });

  it("reports an HTTP/2 reset without a gRPC status (a failed connection) as UNAVAILABLE, not INTERNAL", async () => {
    const raw = http2.createServer();
    raw.on("stream", (st) => {
      st.on("error", () => {}); // closing with an error code also raises it on this side
      st.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    await new Promise<void>((ok) => raw.listen(0, "127.0.0.1", ok));
    const g = createGrpcInferenceClient({ baseUrl: `http://127.0.0.1:${(raw.address() as AddressInfo).port}` });
    const out = await run(g, "n3");
    expect(out.error?.code).toBe(Code.Unavailable);
    expect(out.error?.message).toMatch(/RST_STREAM/);
    g.close();
    await new Promise((ok) => raw.close(ok));
  });
});
