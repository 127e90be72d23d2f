/**
 * Real clients against the running gateway: `buf curl` over Connect,
 * gRPC-Web and gRPC (h2c on the same port), and an @grpc/grpc-js client as a
 * back-end service would use it.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, splitJsonValues, startAirwave, type TestAirwave } from "../support/airwave.js";

const root = resolve(import.meta.dirname, "../..");
const buf = resolve(root, "node_modules/.bin/buf");
const run = promisify(execFile);

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
});
afterAll(async () => {
  await aw?.close();
});

type Msg = { event?: Record<string, unknown> };
function kinds(msgs: unknown[]): string[] {
  const skip = new Set(["streamId", "epoch", "seq", "appendedAt", "agentId"]);
  return (msgs as Msg[]).map((m) => Object.keys(m.event ?? {}).find((k) => !skip.has(k)) ?? "?");
}

describe("buf curl", () => {
  it.each([
    ["connect", []],
    ["grpcweb", []],
    ["grpc", ["--http2-prior-knowledge"]],
  ])("CreateStream over %s yields started, several text_delta, then completed", async (protocol, extra) => {
    const { stdout } = await run(buf, [
      "curl",
      "--schema",
      root,
      "--protocol",
      protocol as string,
      ...(extra as string[]),
      "-d",
      JSON.stringify(createBody("Tell me about lighthouses")),
      `${aw.url}/airwave.v1.StreamService/CreateStream`,
    ]);
    const k = kinds(splitJsonValues(stdout));
    expect(k[0]).toBe("started");
    expect(k.at(-1)).toBe("completed");
    expect(k.filter((x) => x === "textDelta").length).toBeGreaterThan(2);
    expect(k.slice(1, -1).every((x) => x === "textDelta" || x === "usage")).toBe(true);
  });

  it("reports an unknown model as not_found over Connect", async () => {
    const r = await run(buf, [
      "curl",
      "--schema",
      root,
      "-d",
      JSON.stringify(createBody("hi", {}, { model: "nope/model" })),
      `${aw.url}/airwave.v1.StreamService/CreateStream`,
    ]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${r.stdout}${r.stderr}`).toMatch(/not_found/);
  });
});

describe("@grpc/grpc-js client over HTTP/2", () => {
  // A back-end service loads the .proto files and calls the gateway over h2c.
  const def = protoLoader.loadSync("airwave/v1/stream_service.proto", {
    includeDirs: [resolve(root, "proto")],
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js clients made from a loaded .proto are untyped
  const pkg = grpc.loadPackageDefinition(def) as any;
  // Clients made from a loaded .proto are untyped, as for any grpc-js user.
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js clients made from a loaded .proto are untyped
  let client: any;
  beforeAll(() => {
    client = new pkg.airwave.v1.StreamService(new URL(aw.url).host, grpc.credentials.createInsecure());
  });
  afterAll(() => client?.close());

  type Ev = { event: string; seq?: number; epoch?: string; streamId?: string; [k: string]: unknown };
  function collect(call: grpc.ClientReadableStream<{ event: Ev }>): Promise<Ev[]> {
    return new Promise((ok, fail) => {
      const out: Ev[] = [];
      call.on("data", (m: { event: Ev }) => out.push(m.event));
      call.on("error", fail);
      call.on("end", () => ok(out));
    });
  }

  it("streams CreateStream, then resumes it with WatchStream after a cursor", async () => {
    const events = await collect(client.CreateStream(createBody("Explain tides")) as grpc.ClientReadableStream<{ event: Ev }>);
    expect(events[0]?.event).toBe("started");
    expect(events.at(-1)?.event).toBe("completed");
    const text = events
      .filter((e) => e.event === "textDelta")
      .map((e) => (e.textDelta as { text: string }).text)
      .join("");
    expect(text.length).toBeGreaterThan(10);

    const mid = events[3] as Ev;
    const resumed = await collect(
      client.WatchStream({ streamId: mid.streamId, cursor: `${mid.epoch}:${mid.seq}` }) as grpc.ClientReadableStream<{ event: Ev }>,
    );
    expect(resumed[0]).toMatchObject({ event: "resumed", resumed: { outcome: "RESUME_OUTCOME_RECOVERED" } });
    expect(resumed.slice(1).map((e) => e.seq)).toEqual(events.slice(4).map((e) => e.seq));
  });

  it("gets NOT_FOUND as a gRPC status for an unknown stream", async () => {
    const err = await collect(client.WatchStream({ streamId: "x".repeat(22) }) as grpc.ClientReadableStream<{ event: Ev }>).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });

  it("GetStream and CancelStream are unary calls", async () => {
    const id = "grpc-js-stream-0123456789abc";
    const call = client.CreateStream(
      createBody("a long answer", { streamId: id, onDetach: "ON_DETACH_CONTINUE" }, { metadata: { "simulator.tokens_per_s": "5" } }),
    ) as grpc.ClientReadableStream<{ event: Ev }>;
    const all = collect(call);
    await new Promise((ok) => call.once("data", ok));
    const unary = (method: string, req: unknown) =>
      new Promise<Record<string, unknown>>((ok, fail) =>
        client[method](req, (e: Error | null, v: Record<string, unknown>) => (e ? fail(e) : ok(v))),
      );
    expect(await unary("GetStream", { streamId: id })).toMatchObject({ stream: { streamId: id, state: "STREAM_STATE_RUNNING" } });
    expect(await unary("CancelStream", { streamId: id, reason: "test" })).toMatchObject({
      stream: { state: "STREAM_STATE_CANCELLED" },
    });
    const rest = await all;
    expect(rest.at(-1)).toMatchObject({ event: "completed", completed: { finishReason: "FINISH_REASON_CANCELLED" } });
  });
});

/** Calls `path` on `url` with grpc-js, an empty request, and returns the error it ends with. */
async function callUnary(url: string, path: string): Promise<grpc.ServiceError> {
  const client = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
  try {
    return await new Promise<grpc.ServiceError>((ok) =>
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => ok(e as grpc.ServiceError),
      ),
    );
  } finally {
    client.close();
  }
}

describe("gRPC tooling without the .proto files", () => {
  it.each([
    ["the gateway", () => aw.url, "airwave.v1.StreamService"],
    ["the inference service", () => aw.inferenceUrl, "airwave.v1.InferenceService"],
  ])("buf curl --list-services lists %s's services through reflection", async (_, url, service) => {
    const { stdout } = await run(buf, ["curl", "--list-services", "--http2-prior-knowledge", url()]);
    expect(stdout.trim().split("\n")).toEqual(
      expect.arrayContaining([
        service,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]),
    );
  });

  it.each(["grpc", "connect"])("buf curl over %s calls a method with the schema fetched by reflection", async (protocol) => {
    const { stdout } = await run(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      protocol,
      "-d",
      JSON.stringify(createBody("Tell me about lighthouses")),
      `${aw.url}/airwave.v1.StreamService/CreateStream`,
    ]);
    const k = kinds(splitJsonValues(stdout));
    expect([k[0], k.at(-1)]).toEqual(["started", "completed"]);
  });

  it.each([
    ["an unknown method", "/airwave.v1.StreamService/Nope"],
    ["an unknown service", "/nope.v1.Nothing/Call"],
  ])("%s answers UNIMPLEMENTED the way each protocol says it", async (_, path) => {
    // gRPC (h2c, grpc-js) and gRPC-Web: HTTP 200, grpc-status 12.
    const err = await callUnary(aw.url, path);
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toContain(path);
    const web = await fetch(`${aw.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array(5),
    });
    expect([web.status, web.headers.get("content-type"), web.headers.get("grpc-status")]).toEqual([
      200,
      "application/grpc-web+proto",
      "12",
    ]);
    // Connect: 404 with the Connect error code unimplemented.
    const connect = await fetch(`${aw.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(connect.status).toBe(404);
    expect(await connect.json()).toMatchObject({ code: "unimplemented" });
  });

  it("the inference service answers an unknown method UNIMPLEMENTED over gRPC too", async () => {
    expect((await callUnary(aw.inferenceUrl, "/airwave.v1.InferenceService/Nope")).code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
