/**
 * EventSource clients no one here wrote resume through network cuts: a
 * native EventSource in Chromium and the `eventsource` npm package, each
 * created with `?after=<cursor>` mid-stream (the only way a native
 * EventSource can pass a cursor on its first request) and cut twice by the
 * fault proxy. An EventSource keeps its URL for life and sends its newer
 * position only as `Last-Event-ID`, so the gateway must resume after the
 * later of the two: every event arrives exactly once, in order, and after
 * the terminal event the client comes back at once (the terminal's
 * `retry:`), gets 204 and stops.
 */
import { EventSource } from "eventsource";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";
import { launchChromium } from "../support/browser.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { readSse } from "../support/sse.js";

/** The kinds the simulator's answer carries (listened to by name: SSE `event:` is the kind). */
const kinds = ["started", "resumed", "text_delta", "usage", "completed", "failed"];

/** What a client saw: `[type, lastEventId]` per event, and whether it stopped on its own (readyState CLOSED). */
interface Seen {
  events: [string, string][];
  closed: boolean;
}

let aw: TestAirwave;
let browser: Browser;
beforeAll(async () => {
  aw = await startAirwave();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
});

/**
 * Starts a ~6 s answer (240 tokens at 40/s) that continues when its creator
 * leaves, reads its first `n` events, and returns the stream id and the
 * cursor of the n-th event.
 */
async function startMidStream(n: number, headers: Record<string, string> = {}): Promise<{ id: string; after: string; firstSeq: number }> {
  const id = `es-${crypto.randomUUID().replaceAll("-", "")}`;
  const metadata = { "simulator.tokens_per_s": "40", "simulator.output_tokens": "240" };
  const res = await fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(createBody("A long answer about lighthouses", { streamId: id, onDetach: "ON_DETACH_CONTINUE" }, { metadata })),
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  const stop = new AbortController();
  const seen: string[] = [];
  try {
    for await (const m of readSseLive(res, stop.signal)) {
      if (m) seen.push(m);
      if (seen.length === n) break;
    }
  } finally {
    stop.abort();
  }
  const after = seen.at(-1) as string;
  return { id, after, firstSeq: Number(after.split(":")[1]) + 1 };
}

/** The SSE `id:` of each event of a live response, as they come. */
async function* readSseLive(res: Response, signal: AbortSignal): AsyncGenerator<string | undefined> {
  const body = res.body as ReadableStream<Uint8Array>;
  signal.addEventListener("abort", () => void body.cancel().catch(() => {}), { once: true });
  let buf = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      yield /^id: (.*)$/m.exec(block)?.[1];
    }
  }
}

/**
 * Cuts every connection through `proxy` twice: once the client has seen
 * `gap` events, and again `gap` events after it came back. Resolves when
 * both cuts are done.
 */
async function cutTwice(proxy: FaultProxy, count: () => Promise<number>, gap: number): Promise<void> {
  for (let cut = 1; cut <= 2; cut++) {
    const target = (await count()) + gap;
    await expect.poll(count, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(target);
    proxy.faultAll({ kind: "reset" });
  }
}

/**
 * Every logged event after the cursor exactly once and in order, ending
 * with `completed`; `resumed` (one per reconnect) carries where the watch
 * continues, never a logged seq.
 */
function expectExactlyOnce(seen: Seen, firstSeq: number): void {
  const logged = seen.events.filter(([type]) => type !== "resumed");
  const seqs = logged.map(([, id]) => Number(id.split(":")[1]));
  expect(seqs).toEqual(seqs.map((_, i) => firstSeq + i));
  expect(logged.at(-1)?.[0]).toBe("completed");
  expect(seen.events.filter(([type]) => type === "resumed").length).toBeGreaterThanOrEqual(2);
}

describe("an EventSource created with ?after= mid-stream, cut twice", () => {
  it("the eventsource npm package: no duplicate, no gap, stops after the end", async () => {
    const { id, after, firstSeq } = await startMidStream(5);
    const proxy = await startFaultProxy({ targetPort: Number(new URL(aw.url).port) });
    const seen: Seen = { events: [], closed: false };
    const es = new EventSource(`${proxy.url}/v1/streams/${id}/events?after=${after}`);
    try {
      for (const k of kinds) es.addEventListener(k, (m) => seen.events.push([k, m.lastEventId]));
      es.onerror = () => {
        // A 204 closes the EventSource for good (WHATWG HTML §9.2.3); a cut only reconnects.
        if (es.readyState === EventSource.CLOSED) seen.closed = true;
      };
      await cutTwice(proxy, async () => seen.events.length, 15);
      await expect.poll(() => seen.closed, { timeout: 20_000, interval: 20 }).toBe(true);
      expectExactlyOnce(seen, firstSeq);
      expect(proxy.cuts).toBeGreaterThanOrEqual(2);
    } finally {
      es.close();
      await proxy.close();
    }
  }, 60_000);

  it("Chromium's native EventSource: no duplicate, no gap, stops after the end", async () => {
    const proxy = await startFaultProxy({ targetPort: Number(new URL(aw.url).port) });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // The page load gives the browser its identity (a cookie); the stream
      // is started under it, so the browser's watch may read it.
      await page.goto(proxy.url);
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      expect(cookie).not.toBe("");
      const { id, after, firstSeq } = await startMidStream(5, { cookie });
      await page.evaluate(
        ({ url, kinds }) => {
          // biome-ignore lint/suspicious/noExplicitAny: runs in the browser, whose DOM is not in this lib
          const w = globalThis as any;
          const seen = { events: [] as [string, string][], closed: false };
          w.seen = seen;
          const es = new w.EventSource(url);
          for (const k of kinds) es.addEventListener(k, (m: { lastEventId: string }) => seen.events.push([k, m.lastEventId]));
          es.onerror = () => {
            if (es.readyState === 2) seen.closed = true;
          };
        },
        { url: `/v1/streams/${id}/events?after=${after}`, kinds },
      );
      const read = () => page.evaluate(() => (globalThis as unknown as { seen: Seen }).seen);
      await cutTwice(proxy, async () => (await read()).events.length, 15);
      const completed = async () => (await read()).events.some(([type]) => type === "completed");
      await expect.poll(completed, { timeout: 20_000, interval: 50 }).toBe(true);
      // The terminal's retry: brings the EventSource back at once for its 204
      // (its default reconnection delay is about 3 s).
      await expect.poll(async () => (await read()).closed, { timeout: 1_500, interval: 20 }).toBe(true);
      expectExactlyOnce(await read(), firstSeq);
      expect(proxy.cuts).toBeGreaterThanOrEqual(2);
    } finally {
      await context.close();
      await proxy.close();
    }
  }, 60_000);
});

describe("the end of an SSE watch", () => {
  it("asks EventSource to come back at once: the terminal event carries retry:", async () => {
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(createBody("Short answer")),
    });
    const text = await res.text();
    const last = text.trimEnd().split("\n\n").at(-1) ?? "";
    expect(last).toMatch(/^id: .+\nretry: \d{1,3}\nevent: completed\n/);
    expect((await readSse(new Response(text))).at(-1)?.event).toBe("completed");
  });
});
