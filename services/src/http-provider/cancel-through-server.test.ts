import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, InferenceService, Role } from "@airwave/proto";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InferenceServer, startInferenceServer } from "../server.js";
import { fakeSpec, sse, startFakeUpstream } from "../testing/fake-upstream.js";
import { codeOf } from "../testing/stream-events.js";
import { createHttpProvider, type HttpProvider } from "./create-http-provider.js";

describe("a Generate call through the real gRPC inference server", () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let provider: HttpProvider;
  let server: InferenceServer;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // one event, then the response stays open like a model that is still thinking
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse({ text: "Hel" }));
    });
    provider = createHttpProvider({ name: "fake", spec: fakeSpec, endpoint: { baseUrl: upstream.baseUrl } });
    server = await startInferenceServer({ port: 0, providers: [provider] });
  });
  afterAll(async () => {
    await server.close();
    await provider.close();
    await upstream.close();
  });

  it("closes the upstream socket when the client cancels the call", async () => {
    const client = createClient(InferenceService, createGrpcTransport({ baseUrl: server.url }));
    const ac = new AbortController();
    const request = create(GenerateRequestSchema, {
      model: "fake/m1",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
    });
    const seen: string[] = [];
    const call = (async () => {
      for await (const r of client.generate(request, { signal: ac.signal })) {
        seen.push(r.event?.event.case ?? "");
        if (r.event?.event.case === "textDelta") ac.abort();
      }
    })();
    const e = await codeOf(call);
    expect(seen).toEqual(["started", "textDelta"]);
    expect(e.code).toBe(Code.Canceled);
    expect(upstream.requests).toHaveLength(1);
    // The server-side socket of the upstream request closes: the cancel reached it.
    await upstream.requests[0]?.socketClosed;
  });
});
