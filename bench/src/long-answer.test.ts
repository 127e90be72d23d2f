/**
 * The 10 MB test, in headless Chromium on the bench's page built
 * from `@airwave/web/render` (src/render-page.ts): a conversation of 200
 * messages whose last answer, 10 MB of Markdown, streams through the
 * message model into a Markdown view, one sync per animation frame, the
 * list kept scrolled to its end. Prints the figures (long tasks, heap,
 * scrolling frames per second); the full comparison with containment off
 * is `npm run bench -- --only=render`.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tests/support/chromium.ts";
import { bundleRenderPage, formatLongAnswer, longAnswerDefaults, longTasksAfter, measureLongAnswer } from "./render.ts";

let browser: Browser;
let bundle: string;
beforeAll(async () => {
  bundle = await bundleRenderPage();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("a 10 MB answer in a conversation of 200 messages (Chromium)", () => {
  it("renders the whole answer, keeps the checkpoint small and has no long task above 200 ms after the first second", async () => {
    const r = await measureLongAnswer(browser, bundle, { ...longAnswerDefaults, contain: true });
    console.log(`10 MB answer, 200 messages: ${formatLongAnswer(r)}`);
    console.log(`worst frames: ${JSON.stringify(r.worstFrames)}`);
    expect(r.answerChars).toBeGreaterThanOrEqual(10 * 1024 * 1024);
    expect(r.committedChars).toBe(r.answerChars);
    // The resume checkpoint is the stream id and a cursor, however long the answer.
    expect(r.storageChars).toBeLessThan(100);
    // The done-when, asserted as the issue states it. A timing bound on a shared
    // machine: this file runs alone (vitest.config.ts), yet other processes can still stretch a task.
    expect(longTasksAfter(r, 1000).filter((t) => t.durationMs > 200)).toEqual([]);
  }, 900_000);
});
