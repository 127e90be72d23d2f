import { create } from "@bufbuild/protobuf";
import { type GenerateRequest, GenerateRequestSchema, health, InferenceService, Role, type StreamEvent } from "@airwave/proto";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "./provider.js";
import { createSimulatorProvider } from "./providers/simulator/simulator-provider.js";
import { type InferenceServer, startInferenceServer } from "./server.js";
import { codeOf } from "./testing/stream-events.js";

/** The simulator, recording when its generations end and why. */
function observedSimulator() {
  const sim = createSimulatorProvider({ pacing: { ttftMs: 0, tokensPerS: 0 } });
  const ended: { aborted: boolean; reason: unknown }[] = [];
  const provider: Provider = {
    ...sim,
    async *generate(req, model, signal) {
      try {
        yield* sim.generate(req, model, signal);
      } finally {
        ended.push({ aborted: signal.aborted, reason: signal.reason });
      }
    },
  };
  return { provider, ended };
}

const request = (metadata: Record<string, string> = {}, model = "simulator"): GenerateRequest =>
  create(GenerateRequestSchema, {
    model,
    messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Explain how rivers shape valleys" } }] }],
    metadata,
  });

describe("startInferenceServer", () => {
  const sim = observedSimulator();
  let server: InferenceServer;
  let client: ReturnType<typeof createClient<typeof InferenceService>>;
  let healthClient: ReturnType<typeof createClient<typeof health.Health>>;

  beforeAll(async () => {
    server = await startInferenceServer({ port: 0, providers: [sim.provider] });
    const transport = createGrpcTransport({ baseUrl: server.url });
    client = createClient(InferenceService, transport);
    healthClient = createClient(health.Health, transport);
  });
  afterAll(() => server.close());

  const collect = async (req: GenerateRequest, o: { signal?: AbortSignal; timeoutMs?: number } = {}) => {
    const out: StreamEvent[] = [];
    for await (const r of client.generate(req, o)) if (r.event) out.push(r.event);
    return out;
  };

  it("listens on an ephemeral port and reports it", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("streams a simulator generation that ends with completed", async () => {
    const evs = await collect(request());
    expect(evs[0]?.event).toMatchObject({ case: "started", value: { provider: "simulator", model: "default" } });
    expect(evs.some((e) => e.event.case === "textDelta")).toBe(true);
    expect(evs.at(-1)?.event.case).toBe("completed");
    expect(evs.filter((e) => e.event.case === "completed" || e.event.case === "failed")).toHaveLength(1);
  });

  it("streams a mid-stream failure as a failed event and ends the call OK", async () => {
    const evs = await collect(request({ "simulator.fail_after_tokens": "2", "simulator.fail_code": "unavailable" }));
    expect(evs.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "SIMULATED_FAILURE", retryable: true } });
  });

  it("stops the generation when the client cancels", async () => {
    const ac = new AbortController();
    const before = sim.ended.length;
    const seen: StreamEvent[] = [];
    const err = await codeOf(
      (async () => {
        for await (const r of client.generate(request({ "simulator.tokens_per_s": "20", "simulator.output_tokens": "400" }), {
          signal: ac.signal,
        })) {
          seen.push(r.event!);
          if (seen.length === 3) ac.abort();
        }
      })(),
    );
    expect(err.code).toBe(Code.Canceled);
    await expect.poll(() => sim.ended.length, { timeout: 3000 }).toBe(before + 1);
    expect(sim.ended.at(-1)?.aborted).toBe(true);
  });

  it("ends with DeadlineExceeded when the deadline passes, aborting the generation", async () => {
    const before = sim.ended.length;
    const err = await codeOf(collect(request({ "simulator.tokens_per_s": "20", "simulator.output_tokens": "400" }), { timeoutMs: 300 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    await expect.poll(() => sim.ended.length, { timeout: 3000 }).toBe(before + 1);
    expect(sim.ended.at(-1)?.aborted).toBe(true);
  });

  it("keeps the gateway's connection through a burst of 1,500 cancels: a call running beside them completes", async () => {
    // Node's default rapid-reset guard (1,000 resets, then 33/s) would answer with GOAWAY and fail the running call.
    const long = collect(request({ "simulator.tokens_per_s": "20", "simulator.output_tokens": "60" }));
    const cancelOne = async () => {
      const ac = new AbortController();
      await codeOf(
        (async () => {
          for await (const _ of client.generate(request({ "simulator.tokens_per_s": "20", "simulator.output_tokens": "400" }), {
            signal: ac.signal,
          }))
            ac.abort();
        })(),
      );
    };
    for (let i = 0; i < 15; i++) await Promise.all(Array.from({ length: 100 }, cancelOne));
    const evs = await long;
    expect(evs.at(-1)?.event.case).toBe("completed");
    expect(evs.filter((e) => e.event.case === "textDelta").length).toBeGreaterThan(0);
  });

  it("refuses a malformed request with InvalidArgument", async () => {
    const bad = create(GenerateRequestSchema, { model: "simulator", messages: [{ role: Role.USER, parts: [] }] });
    const err = await codeOf(collect(bad));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("messages[0].parts: at least one part is required");
  });

  it("refuses an unknown model with NotFound listing the providers", async () => {
    const err = await codeOf(collect(request({}, "nope/model")));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain("available providers: simulator");
    expect((await codeOf(collect(request({}, "simulator/huge")))).code).toBe(Code.NotFound);
  });

  it("answers health Check with SERVING, and NotFound for an unknown service", async () => {
    expect((await healthClient.check({ service: "" })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    expect((await healthClient.check({ service: "airwave.v1.InferenceService" })).status).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    expect((await codeOf(healthClient.check({ service: "x.Y" }))).code).toBe(Code.NotFound);
  });

  it("sends the health status at once on Watch", async () => {
    const ac = new AbortController();
    for await (const r of healthClient.watch({ service: "" }, { signal: ac.signal })) {
      expect(r.status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
      break;
    }
    ac.abort();
  });
});

describe("InferenceServer.close", () => {
  it("ends running calls with Unavailable, tells watchers NOT_SERVING, and closes promptly", async () => {
    const server = await startInferenceServer({
      port: 0,
      providers: [createSimulatorProvider({ pacing: { ttftMs: 0, tokensPerS: 20 } })],
    });
    const transport = createGrpcTransport({ baseUrl: server.url });
    const seen: StreamEvent[] = [];
    const call = codeOf(
      (async () => {
        for await (const r of createClient(InferenceService, transport).generate(request({ "simulator.output_tokens": "400" }))) {
          seen.push(r.event!);
        }
      })(),
    );
    const statuses: health.HealthCheckResponse_ServingStatus[] = [];
    // However the watch ends: the statuses it saw are what the test checks.
    const watch = (async () => {
      for await (const r of createClient(health.Health, transport).watch({ service: "" })) statuses.push(r.status);
    })().catch(() => undefined);
    await expect.poll(() => seen.length > 1 && statuses.length > 0).toBe(true);
    const t0 = performance.now();
    await server.close();
    expect(performance.now() - t0).toBeLessThan(1500);
    expect((await call).code).toBe(Code.Unavailable);
    await watch;
    expect(statuses).toEqual([health.HealthCheckResponse_ServingStatus.SERVING, health.HealthCheckResponse_ServingStatus.NOT_SERVING]);
  });
});
