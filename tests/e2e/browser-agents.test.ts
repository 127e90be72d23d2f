/**
 * An agent run in the demo page (`simulator/agent`): lanes appear for the
 * planner, the researcher and the writer, the researcher's tool calls show
 * their results, the planner's input request shows buttons (or a text box),
 * answering it sends `SendInput` over the page's transport, the agent goes
 * on with that answer, and the run completes with the writer's answer in
 * `#output` — the same text as the stream's log — and every agent's
 * progress bar full.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import {
  answerFromLog,
  answerText,
  collapseWhitespace,
  type DemoTransport,
  demoStreamId,
  launchChromium,
  openDemo,
  renderedText,
  screenshot,
  waitForBody,
} from "../support/browser.js";

let aw: TestAirwave;
let browser: Browser;
beforeAll(async () => {
  aw = await startAirwave({ services: { simTtftMs: 20, simTokensPerS: 80 }, gateway: { corsOrigins: [] } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
});

/** How each run answers: which preset, and what the user does in the input request. */
const runs: { transport: DemoTransport; preset: string; answer: (page: Page) => Promise<string> }[] = [
  { transport: "sse", preset: "agent-confirm", answer: (p) => click(p, '[data-answer="yes"]', "yes") },
  { transport: "websocket", preset: "agent-choice", answer: (p) => click(p, '[data-answer="short"]', "short") },
  { transport: "connect", preset: "agent-text", answer: (p) => type(p, "tides and harbours") },
  { transport: "long-poll", preset: "agent-confirm", answer: (p) => click(p, '[data-answer="no"]', "no") },
  { transport: "auto", preset: "agent-choice", answer: (p) => click(p, '[data-answer="detailed"]', "detailed") },
];

async function click(page: Page, selector: string, text: string): Promise<string> {
  await page.click(`button[data-input-id]${selector}`);
  return text;
}

async function type(page: Page, text: string): Promise<string> {
  await page.fill("input[data-input-id]", text);
  await page.click("button[data-input-id][data-submit]");
  return text;
}

const lane = (agent: string) => `#agents .lane[data-agent="${agent}"]`;

describe.each(runs)("an agent run over $transport ($preset)", ({ transport, preset, answer }) => {
  it("shows one lane per agent, asks, takes the answer and completes", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    try {
      await page.selectOption("#preset", preset);
      expect(await page.inputValue("#model")).toBe("simulator/agent");
      await page.fill("#prompt", "How do lighthouses guide ships at night?");
      await page.click("#send");

      // The planner asks; by then the planner and the researcher have lanes, and the searches their results.
      await page.waitForSelector(`${lane("planner")} .input[data-answered="false"]`, { timeout: 30_000 });
      await page.waitForSelector(`${lane("researcher")} figure.tool pre.result`, { state: "attached" });
      expect(await page.locator(`${lane("researcher")} figure.tool`).count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator(`${lane("planner")} .agent-status`).textContent()).not.toBe("");
      expect(await page.getAttribute("body", "data-state")).toBe("streaming");
      await screenshot(page, `agents-${transport}-1-input-requested`);

      const sent = await answer(page);
      await page.waitForSelector(`${lane("planner")} .input[data-answered="true"]`, { timeout: 10_000 });
      expect(await page.locator(`${lane("planner")} .input .answer`).textContent()).toBe(`Answered: ${sent}`);
      await page.waitForSelector(`${lane("writer")} .text`, { timeout: 10_000 });
      await screenshot(page, `agents-${transport}-2-lanes`);

      await waitForBody(page, "state", ["done"]);
      await screenshot(page, `agents-${transport}-3-completed`);
      expect(
        await page
          .locator("#agents .lane")
          .evaluateAll((ls) => ls.map((l) => (l as unknown as { dataset: { agent: string } }).dataset.agent)),
      ).toEqual(["planner", "researcher", "writer"]);
      expect(await page.textContent("#status")).toMatch(/completed: stop/);
      const streamId = await demoStreamId(page);
      const log = await answerFromLog(page, streamId, "writer");
      expect(log.terminal).toBe("completed");
      expect(log.answered.map((a) => a.text)).toEqual([sent]);
      expect(log.text.length).toBeGreaterThan(0);
      expect(await answerText(page)).toBe(log.text);
      expect(await answerText(page, "writer")).toBe(log.text);
      // Rendered as Markdown (prose, "Sources: [1] https://…" with the URLs as links): the same words a reader sees.
      expect(await renderedText(page)).toBe(collapseWhitespace(log.text));
      expect(await renderedText(page, `${lane("writer")} .text`)).toBe(await renderedText(page));
      // The run is complete: so is every agent's part.
      const bars = await page
        .locator("#agents .lane .agent-status progress")
        .evaluateAll((ps) =>
          ps.map((p) => [(p as unknown as { value: number }).value, (p as unknown as { textContent: string }).textContent]),
        );
      expect(bars.length).toBeGreaterThanOrEqual(3);
      for (const bar of bars) expect(bar).toEqual([1, "100%"]);
    } finally {
      await close();
    }
  });
});
