/**
 * Graceful shutdown of a real gateway (the path SIGTERM takes in main.ts):
 * readiness fails at once, new streams are refused with UNAVAILABLE, running
 * streams finish within the grace period or end with a retryable
 * GATEWAY_SHUTDOWN failure, and close() resolves.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FinishReason, health, Role, type StreamEvent, StreamService } from "@airwave/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

function request(outputTokens: number) {
  return {
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text" as const, value: "Explain tides" } }] }],
      metadata: { "simulator.output_tokens": String(outputTokens) },
    },
  };
}

describe("gateway shutdown", () => {
  let aw: TestAirwave | undefined;
  afterEach(async () => {
    await aw?.close();
  });

  async function start() {
    // 200 streams from one owner: startAirwave turns its limits off.
    aw = await startAirwave({ services: { simTtftMs: 0, simTokensPerS: 50 } });
    const gw = aw.gateway;
    const transport = createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" });
    return { gw, client: createClient(StreamService, transport), healthClient: createClient(health.Health, transport) };
  }

  function follow(it: AsyncIterable<{ event?: StreamEvent | undefined }>) {
    const events: StreamEvent[] = [];
    const done = (async () => {
      for await (const r of it) if (r.event) events.push(r.event);
    })();
    return { events, done };
  }

  it("fails readiness at once, refuses new streams, and ends a stream still running at the deadline with GATEWAY_SHUTDOWN", async () => {
    const { gw, client, healthClient } = await start();
    const s = follow(client.createStream(request(5_000)));
    await vi.waitFor(() => expect(s.events.some((e) => e.event.case === "textDelta")).toBe(true));

    const closing = gw.close(300);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(503);
    expect((await healthClient.check({ service: "" })).status).toBe(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
    const refused = await follow(client.createStream(request(5))).done.catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unavailable);

    await closing;
    await s.done;
    expect(s.events.at(-1)?.event).toMatchObject({
      case: "failed",
      value: { reason: "GATEWAY_SHUTDOWN", retryable: true },
    });
    expect(gw.hub.stats).toMatchObject({ running: 0, watchers: 0, timers: 0 });
  });

  it("lets a stream that finishes within the grace period complete normally", async () => {
    const { gw, client } = await start();
    const s = follow(client.createStream(request(20)));
    await vi.waitFor(() => expect(s.events.length).toBeGreaterThan(0));
    await gw.close(10_000);
    await s.done;
    expect(s.events.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });
});
