/**
 * Real input: every recorded OpenAI Chat Completions transcript is replayed
 * byte for byte, paced, by a local HTTP server. The openai-compatible
 * provider reads it through the whole chain (inference service → gateway →
 * SSE), and what arrives must equal what the official `openai` SDK reads
 * from the same replay. Then: cancelling reaches the model's socket.
 */
import { basename, join } from "node:path";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";
import { fixturesRoot, haveFixtures, upstreamFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";
import { readSse } from "../support/sse.js";

const root = resolve(import.meta.dirname, "../..");
const provider = "openai-chat";
const files = upstreamFixtures(provider);
const held = "obfuscation-300-chunks.sse@hold=5"; // sends 5 events, then holds the response open

describe.skipIf(!haveFixtures(provider))("openai-compatible provider on recorded OpenAI transcripts", () => {
  let replay: Awaited<ReturnType<typeof startReplayServer>>;
  let aw: TestAirwave;
  beforeAll(async () => {
    replay = await startReplayServer(join(fixturesRoot, "upstream", provider), { paceMs: 1 });
    aw = await startAirwave({
      services: { openaiBaseUrl: replay.url, openaiApiKey: "sk-replay" },
      gateway: { detachGraceMs: 100 },
    });
  });
  afterAll(async () => {
    await aw?.close();
    await replay?.close();
  });

  /** What the official SDK reads: choice 0's text (content and refusal) and tool calls. */
  async function readWithSdk(model: string) {
    const sdk = new OpenAI({ baseURL: replay.url, apiKey: "sk-replay", maxRetries: 0 });
    const stream = await sdk.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    let finish: string | null = null;
    const tools = new Map<number, { name: string; args: string }>();
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        if (c.index !== 0) continue;
        text += c.delta?.content ?? "";
        text += (c.delta as { refusal?: string | null } | undefined)?.refusal ?? "";
        for (const tc of c.delta?.tool_calls ?? []) {
          const t = tools.get(tc.index) ?? { name: "", args: "" };
          t.name += tc.function?.name ?? "";
          t.args += tc.function?.arguments ?? "";
          tools.set(tc.index, t);
        }
        finish = c.finish_reason ?? finish;
      }
    }
    return { text, finish, tools: [...tools.values()] };
  }

  it.each(files.map((f) => basename(f)))("%s: the gateway delivers what the openai SDK reads", async (name) => {
    const want = await readWithSdk(name);
    expect(want.text.length + want.tools.length).toBeGreaterThan(0); // never a vacuous comparison
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(createBody("hi", {}, { model: `openai-compatible/${name}` })),
    });
    expect(res.status).toBe(200);
    const events = (await readSse(res)).map((m) => JSON.parse(m.data) as Record<string, { [k: string]: unknown }>);
    // Choice 0 only, like the SDK side (canonical JSON leaves choiceIndex 0 out).
    const first = events.filter((e) => e["choiceIndex"] === undefined);
    const text = first.map((e) => (e.textDelta?.text as string | undefined) ?? "").join("");
    expect(text).toBe(want.text);
    const calls = first.filter((e) => e.toolCallCompleted).map((e) => e.toolCallCompleted);
    expect(calls.map((c) => ({ name: c?.name, args: JSON.parse(String(c?.argumentsJson)) }))).toEqual(
      want.tools.map((t) => ({ name: t.name, args: JSON.parse(t.args) })),
    );
    expect(Object.keys(events[0] ?? {})).toContain("started");
    const last = events.at(-1) ?? {};
    expect(last.completed?.rawFinishReason).toBe(want.finish);
    expect(events.filter((e) => e.completed || e.failed)).toHaveLength(1);
  });

  it("a provider's rate limit reaches the HTTP client as 429 with its Retry-After and reason", async () => {
    // 60 s is past the service's retry cap (30 s), so it answers at once with the hint.
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(createBody("hi", {}, { model: "openai-compatible/status=429,retry-after=60" })),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(res.headers.get("retry-after-ms")).toBe("60000");
    expect(res.headers.get("airwave-reason")).toMatch(/^UPSTREAM_/);
    expect(((await res.json()) as { code: string }).code).toBe("resource_exhausted");
  });

  describe("stop reaches the model", () => {
    const grpcOptions = { includeDirs: [resolve(root, "proto")], longs: String, enums: String, defaults: false, oneofs: true };

    it("a cancelled InferenceService.Generate call closes the upstream socket", async () => {
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js clients made from a loaded .proto are untyped
      const pkg = grpc.loadPackageDefinition(protoLoader.loadSync("airwave/v1/inference_service.proto", grpcOptions)) as any;
      const client = new pkg.airwave.v1.InferenceService(new URL(aw.inferenceUrl).host, grpc.credentials.createInsecure());
      const before = replay.requests.length;
      const call = client.Generate(createBody("hi", {}, { model: `openai-compatible/${held}` }).request);
      call.on("error", () => {});
      await new Promise((ok) => call.once("data", ok));
      call.cancel();
      await replay.requests[before]!.closedEarly;
      expect(replay.requests[before]!.finished).toBe(false);
      client.close();
    });

    describe("a cancelled gateway CreateStream call (grpc-js)", () => {
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js clients made from a loaded .proto are untyped
      const pkg = grpc.loadPackageDefinition(protoLoader.loadSync("airwave/v1/stream_service.proto", grpcOptions)) as any;

      it.each([["ON_DETACH_CANCEL"], ["ON_DETACH_UNSPECIFIED"]])("with on_detach %s closes the upstream socket", async (onDetach) => {
        const client = new pkg.airwave.v1.StreamService(new URL(aw.url).host, grpc.credentials.createInsecure());
        const before = replay.requests.length;
        const call = client.CreateStream(createBody("hi", { onDetach }, { model: `openai-compatible/${held}` }));
        call.on("error", () => {});
        await new Promise((ok) => call.on("data", (m: { event: { event: string } }) => m.event.event === "textDelta" && ok(m)));
        call.cancel(); // the watcher leaves; CANCEL cancels at once, the default after the grace period
        await replay.requests[before]!.closedEarly;
        client.close();
      });
    });
  });
});
