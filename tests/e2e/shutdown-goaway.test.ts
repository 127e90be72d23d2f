/**
 * A draining gateway sends HTTP/2 GOAWAY at once (a rolling restart behind
 * an HTTP/2 proxy or to gRPC clients): the calls in flight on the
 * connection go on to their end, and the client knows to open a new
 * connection (elsewhere, through a load balancer) for new calls instead of
 * seeing them fail when the process exits.
 */
import { once } from "node:events";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
});
afterAll(async () => {
  await aw?.close();
});

describe("shutdown over HTTP/2", () => {
  it("sends GOAWAY at the start of the drain; the stream in flight still gets its last event", async () => {
    const session = http2.connect(aw.url);
    const goaway = once(session, "goaway");
    const body = createBody("Tell me about tides", {}, { metadata: { "simulator.output_tokens": "60", "simulator.tokens_per_s": "100" } });
    const req = session.request({
      ":method": "POST",
      ":path": "/v1/streams",
      "content-type": "application/json",
      accept: "text/event-stream",
    });
    req.end(JSON.stringify(body));
    req.setEncoding("utf8");
    let text = "";
    const first = new Promise<void>((resolve) =>
      req.on("data", (c: string) => {
        text += c;
        if (text.includes("event: text_delta")) resolve();
      }),
    );
    const ended = once(req, "end");
    await first;
    const closing = aw.gateway.close(10_000);
    const t0 = performance.now();
    const [code] = (await goaway) as [number];
    const goawayMs = performance.now() - t0;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await ended;
    expect(text).toMatch(/event: completed/); // the call in flight went on to its end
    await closing;
    session.destroy();
    console.log(`GOAWAY ${goawayMs.toFixed(1)} ms after the drain began; the stream in flight completed`);
  });
});
