/**
 * Adaptive streaming in headless Chromium, through the real gateway and
 * simulator: a page built from `@airwave/web` (the client and the frame
 * batcher with the page's default update policy, nothing configured)
 * renders an answer under three conditions, and the interval between its
 * DOM updates follows the network and the device:
 *
 * - no throttling, 8 logical processors (CDP `Emulation.setHardwareConcurrencyOverride`):
 *   the `fast` tier, an update per animation frame. This one run reads the
 *   hints without the long-task observer: on a loaded 2-core test machine
 *   the renderer's tasks are long because the machine is busy (the gateway,
 *   the simulator and other suites share it), which rightly demotes the
 *   page to 100 ms but makes the figure the machine's, not the page's.
 *   Long-task pressure is unit-tested with a fake observer
 *   (web/src/model/update-policy.test.ts);
 * - no throttling, 2 processors: the `default` tier, updates ≥ 100 ms apart;
 * - CDP `Network.emulateNetworkConditions` at slow-2g figures (2000 ms
 *   latency, 50 kbit/s): this Chromium then reports
 *   `navigator.connection.effectiveType` "2g" and `rtt` 2000 and fires
 *   `change` — no injected connection object is needed — so the
 *   `slow-link` tier: updates ≥ 500 ms apart, and the client asks the
 *   gateway for `coalesce_ms` 500, so far fewer text frames arrive; a
 *   client with `updatePolicy: false` gets a frame per token, and its
 *   batcher alone still spaces the updates 500 ms apart.
 *
 * Each time the rendered text equals the stream's log.
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { answerFromLog, launchChromium } from "../support/browser.js";

let aw: TestAirwave;
let browser: Browser;
let pageJs: string;

/**
 * The page: `window.run()` streams one answer over NDJSON and resolves with
 * the policy seen at the start, the time of each DOM update, the count of
 * text frames received and the text rendered.
 */
const pageSource = `
import { createAirwaveClient, createFrameBatcher, createUpdatePolicy, pageUpdatePolicy } from "./index.js";
const out = document.querySelector("#out");
const client = createAirwaveClient({ baseUrl: location.origin, transport: "ndjson" });
const noCoalescing = createAirwaveClient({ baseUrl: location.origin, transport: "ndjson", updatePolicy: false });
window.policyChanges = 0;
pageUpdatePolicy().subscribe(() => window.policyChanges++);
const withoutLongTasks = createUpdatePolicy({ PerformanceObserver: null });
window.run = async ({ metadata, longTasks, coalesce }) => {
  const source = longTasks ? pageUpdatePolicy() : withoutLongTasks;
  const policy = source.current;
  const updates = [];
  let text = "";
  let frames = 0;
  const batcher = createFrameBatcher((events) => {
    updates.push(performance.now()); // first: the batcher notes its own time just before
    for (const e of events) if (e.event.case === "textDelta") text += e.event.value.text;
    out.textContent = text;
  }, { policy: longTasks ? undefined : source });
  const messages = [{ role: 1, parts: [{ part: { case: "text", value: "How do tides work?" } }] }];
  const s = (coalesce ? client : noCoalescing).stream({ request: { model: "simulator", messages, metadata } });
  for await (const e of s) {
    if (e.event.case === "textDelta") frames++;
    batcher.push(e);
  }
  batcher.flush();
  return { policy: { tier: policy.tier, intervalMs: policy.intervalMs, coalesceMs: policy.coalesceMs, reason: policy.reason }, updates, frames, text, streamId: s.streamId };
};
`;

beforeAll(async () => {
  const bundled = await build({
    stdin: {
      contents: pageSource,
      resolveDir: resolve(import.meta.dirname, "../../web/src"),
      loader: "ts",
      sourcefile: "adaptive-page.ts",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@airwave/source"],
    logLevel: "warning",
  });
  pageJs = bundled.outputFiles[0]?.text ?? "";
  aw = await startAirwave();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: page functions run in the browser; the DOM is not in this lib
declare const window: any, navigator: any;

interface Run {
  policy: { tier: string; intervalMs: number; coalesceMs: number; reason: string };
  updates: number[];
  frames: number;
  text: string;
  streamId: string;
}

/** Opens the page on the gateway's origin (served by route, then unrouted), with `cores` logical processors. */
async function openPage(cores: number): Promise<{ page: Page; cdp: CDPSession; close(): Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setHardwareConcurrencyOverride", { hardwareConcurrency: cores });
  await page.route(`${aw.url}/adaptive/**`, (route) =>
    route.request().url().endsWith(".js")
      ? route.fulfill({ contentType: "text/javascript", body: pageJs })
      : route.fulfill({
          contentType: "text/html",
          body: '<!doctype html><p id="out"></p><script type="module" src="/adaptive/page.js"></script>',
        }),
  );
  await page.goto(`${aw.url}/adaptive/index.html`);
  await page.waitForFunction(() => typeof window.run === "function");
  await page.unrouteAll();
  return { page, cdp, close: () => context.close() };
}

/** ~3 s of one-token deltas: 120 tokens at 40 per second. */
const metadata = { "simulator.tokens_per_s": "40", "simulator.output_tokens": "120", "simulator.delta_tokens": "1" };

/** The gaps between updates, in ms, without the last update (the explicit flush after the terminal event, which does not wait). */
const gaps = (ts: readonly number[]) => ts.slice(1, -1).map((t, i) => t - (ts[i] as number));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

describe("adaptive updates in Chromium", () => {
  it("a fast device updates every frame; a 2-core one every 100 ms; the same text", async () => {
    const fast = await openPage(8);
    const slowCpu = await openPage(2);
    try {
      const a = (await fast.page.evaluate((o) => window.run(o), { metadata, longTasks: false, coalesce: true })) as Run;
      const b = (await slowCpu.page.evaluate((o) => window.run(o), { metadata, longTasks: true, coalesce: true })) as Run;
      expect(a.policy).toMatchObject({ tier: "fast", intervalMs: 0, coalesceMs: 0 });
      expect(b.policy).toMatchObject({ tier: "default", intervalMs: 100, coalesceMs: 0, reason: "hardwareConcurrency 2" });
      console.log(
        `fast: ${a.updates.length} updates, median gap ${median(gaps(a.updates)).toFixed(0)} ms; 2 cores: ${b.updates.length} updates, median gap ${median(gaps(b.updates)).toFixed(0)} ms, least ${Math.min(...gaps(b.updates)).toFixed(0)} ms`,
      );
      expect(median(gaps(a.updates))).toBeLessThan(60); // a token every 25 ms, a frame every ~16 ms
      expect(Math.min(...gaps(b.updates))).toBeGreaterThanOrEqual(99);
      expect(b.updates.length).toBeLessThan(a.updates.length / 2);
      expect(a.frames).toBeGreaterThanOrEqual(100); // no coalescing asked: a frame per token
      expect(b.frames).toBeGreaterThanOrEqual(100);
      expect(await fast.page.textContent("#out")).toBe(a.text);
      expect((await answerFromLog(fast.page, a.streamId)).text).toBe(a.text);
      expect((await answerFromLog(slowCpu.page, b.streamId)).text).toBe(b.text);
    } finally {
      await fast.close();
      await slowCpu.close();
    }
  });

  it("under slow-2g emulation: updates ≥ 500 ms apart, coalesced frames on the wire, the same text", async () => {
    const { page, cdp, close } = await openPage(8);
    try {
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: 2_000,
        downloadThroughput: 50_000 / 8,
        uploadThroughput: 50_000 / 8,
        connectionType: "cellular2g",
      });
      // Chromium derives navigator.connection from the emulated conditions and fires `change`.
      await page.waitForFunction(() => navigator.connection?.effectiveType === "2g" || navigator.connection?.effectiveType === "slow-2g");
      const seen = await page.evaluate(() => ({ rtt: navigator.connection.rtt, changes: window.policyChanges }));
      expect(seen.rtt).toBeGreaterThanOrEqual(1_400); // about the emulated 2000 ms (Chromium adds noise: 1800 … 2100 seen)
      expect(seen.changes).toBeGreaterThanOrEqual(1); // the policy followed the change event (long tasks may add one)
      const r = (await page.evaluate((o) => window.run(o), { metadata, longTasks: true, coalesce: true })) as Run;
      // The same without asking the gateway: a frame per token on the wire, the interval alone spaces the updates.
      const plain = (await page.evaluate((o) => window.run(o), { metadata, longTasks: true, coalesce: false })) as Run;
      expect(r.policy).toMatchObject({ tier: "slow-link", intervalMs: 500, coalesceMs: 500 });
      expect(r.policy.reason).toMatch(/^effectiveType (slow-)?2g$/);
      const g = gaps(r.updates);
      console.log(
        `slow-2g (rtt ${seen.rtt} ms): ${r.updates.length} updates, least gap ${Math.min(...g).toFixed(0)} ms; ${r.frames} text frames for 120 tokens`,
      );
      expect(Math.min(...g)).toBeGreaterThanOrEqual(499);
      expect(r.updates.length).toBeLessThanOrEqual(12); // ~3 s of tokens at 2 a second, plus latency
      expect(r.frames).toBeLessThanOrEqual(12); // the gateway coalesced: ~3 s / 500 ms, not 120
      expect(r.frames).toBeGreaterThanOrEqual(2);
      console.log(
        `slow-2g without coalesce_ms: ${plain.updates.length} updates, least gap ${Math.min(...gaps(plain.updates)).toFixed(0)} ms; ${plain.frames} text frames`,
      );
      expect(plain.frames).toBeGreaterThanOrEqual(100);
      expect(Math.min(...gaps(plain.updates))).toBeGreaterThanOrEqual(499);
      expect(plain.updates.length).toBeLessThanOrEqual(12);
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      expect((await answerFromLog(page, r.streamId)).text).toBe(r.text);
      expect((await answerFromLog(page, plain.streamId)).text).toBe(plain.text);
      expect(r.text.length).toBeGreaterThan(100);
    } finally {
      await close();
    }
  });
});
