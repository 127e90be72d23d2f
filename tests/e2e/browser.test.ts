/**
 * The demo page in headless Chromium: the answer streams in token by token
 * (several intermediate states, not only the final text) over Connect,
 * gRPC-Web and SSE, and Stop stops the generation all the way to the
 * model's socket.
 */
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { launchChromium } from "../support/browser.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

const transports = ["connect", "grpc-web", "sse"] as const;

// Functions passed to page.evaluate run in the browser; this suite is
// type-checked against Node's lib, so the few DOM names are declared here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any, MutationObserver: any;

let aw: TestAirwave;
let replay: Awaited<ReturnType<typeof startReplayServer>>;
let browser: Browser;
beforeAll(async () => {
  replay = await startReplayServer(join(fixturesRoot, "upstream", "openai-chat"), { paceMs: 1 });
  // Paced so that a person (and this test) sees the text grow: ~1.5 s per answer.
  aw = await startAirwave({
    services: { simTtftMs: 50, simTokensPerS: 40, openaiBaseUrl: replay.url },
    gateway: { corsOrigins: [] },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
  await replay?.close();
});

async function openDemo(transport: string): Promise<Page> {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(`${aw.url}/?transport=${transport}`);
  await page.selectOption("#transport", transport);
  // Record every state the answer passes through.
  await page.evaluate(() => {
    const w = window as unknown as { states: string[] };
    w.states = [];
    const out = document.querySelector("#output");
    new MutationObserver(() => {
      const t = out.textContent ?? "";
      if (t !== w.states.at(-1)) w.states.push(t);
    }).observe(out, { childList: true, characterData: true, subtree: true });
  });
  return page;
}

describe.each(transports)("demo page over %s", (transport) => {
  it("streams the answer token by token", async () => {
    const page = await openDemo(transport);
    await page.fill("#prompt", "How do lighthouses guide ships at night?");
    await page.click("#send");
    await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 30_000 });
    const states = await page.evaluate(() => (window as unknown as { states: string[] }).states);
    const final = (await page.textContent("#output")) ?? "";
    expect(final).toMatch(/lighthouse/i);
    const intermediate = states.filter((s) => s !== "" && s !== final);
    expect(intermediate.length).toBeGreaterThanOrEqual(5);
    // Each state extends the previous one: the text grows, never jumps back.
    for (let i = 1; i < states.length; i++) expect(states[i]!.startsWith(states[i - 1]!)).toBe(true);
    expect(await page.textContent("#status")).toMatch(/completed: stop/);
    await page.close();
  });

  it("Stop stops the generation", async () => {
    const page = await openDemo(transport);
    await page.fill("#prompt", "Write a very long essay about the sea");
    await page.click("#send");
    await page.waitForFunction(() => (document.querySelector("#output")?.textContent ?? "").length > 20);
    await page.click("#stop");
    await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 10_000 });
    const status = await page.textContent("#status");
    expect(status).toMatch(/completed: cancelled/);
    // The server's completed(CANCELLED) arrived: not the page's local fallback.
    expect(status).not.toMatch(/did not confirm/);
    await page.close();
  });
});

describe.skipIf(!haveFixtures("openai-chat"))("Stop reaches the model", () => {
  it.each(transports)("over %s: the model's socket is closed", async (transport) => {
    const page = await openDemo(transport);
    await page.fill("#model", "openai-compatible/obfuscation-300-chunks.sse@hold=5");
    await page.fill("#prompt", "hi");
    const before = replay.requests.length;
    await page.click("#send");
    await page.waitForFunction(() => (document.querySelector("#output")?.textContent ?? "").length > 0);
    await page.click("#stop");
    await replay.requests[before]!.closedEarly; // the upstream fetch was aborted
    expect(replay.requests[before]!.finished).toBe(false);
    await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 10_000 });
    await page.close();
  });
});
