/**
 * The demo page in headless Chromium, over every transport: the answer
 * streams in token by token (several intermediate states, not only the
 * final text) and equals the stream's log, and Stop stops the generation
 * all the way to the model's socket.
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import {
  answerFromLog,
  demoStreamId,
  demoTransports,
  launchChromium,
  openDemo,
  outputStates,
  recordOutputStates,
  screenshot,
  waitForBody,
  waitForOutput,
} from "../support/browser.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

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

describe.each(demoTransports)("demo page over %s", (transport) => {
  it("streams the answer token by token, exactly as the log has it", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    await recordOutputStates(page);
    await page.fill("#prompt", "How do lighthouses guide ships at night?");
    await page.click("#send");
    await waitForOutput(page, 0);
    expect(await page.getAttribute("body", "data-connection")).toBe("live");
    if (transport === "connect") await screenshot(page, "streaming");
    await waitForBody(page, "state", ["done"]);
    const states = await outputStates(page);
    const final = (await page.textContent("#output")) ?? "";
    expect(final).toMatch(/lighthouse/i);
    expect(await answerFromLog(page, await demoStreamId(page))).toMatchObject({ text: final, terminal: "completed" });
    const intermediate = states.filter((s) => s !== "" && s !== final);
    expect(intermediate.length).toBeGreaterThanOrEqual(5);
    // Each state extends the previous one: the text grows, never jumps back.
    for (let i = 1; i < states.length; i++) expect(states[i]!.startsWith(states[i - 1]!)).toBe(true);
    expect(await page.textContent("#status")).toMatch(/completed: stop/);
    expect(await page.getAttribute("body", "data-connection")).toBe("closed");
    if (transport === "connect") await screenshot(page, "completed");
    await close();
  });

  it("Stop stops the generation", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    await page.fill("#prompt", "Write a very long essay about the sea");
    await page.click("#send");
    await waitForOutput(page, 20);
    await page.click("#stop");
    await waitForBody(page, "state", ["done"], 10_000);
    const status = await page.textContent("#status");
    expect(status).toMatch(/completed: cancelled/);
    // The server's completed(CANCELLED) arrived: not the page's local fallback.
    expect(status).not.toMatch(/did not confirm/);
    if (transport === "connect") await screenshot(page, "cancelled");
    await close();
  });
});

describe.skipIf(!haveFixtures("openai-chat"))("Stop reaches the model", () => {
  it.each(demoTransports)("over %s: the model's socket is closed", async (transport) => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    await page.fill("#model", "openai-compatible/obfuscation-300-chunks.sse@hold=5");
    await page.fill("#prompt", "hi");
    const before = replay.requests.length;
    await page.click("#send");
    await waitForOutput(page, 0);
    await page.click("#stop");
    await replay.requests[before]!.closedEarly; // the upstream fetch was aborted
    expect(replay.requests[before]!.finished).toBe(false);
    await waitForBody(page, "state", ["done"], 10_000);
    await close();
  });
});
