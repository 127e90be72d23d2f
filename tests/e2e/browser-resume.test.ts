/**
 * The demo page survives what browsers go through, on every transport: the
 * network drops mid-answer and comes back (the page shows "reconnecting…",
 * then "resumed"), and the page is reloaded mid-answer (it picks the saved
 * stream up again). Either way it ends with the whole answer exactly once —
 * the same text as the stream's log. While it reconnects, the page shows
 * the attempt number and the transport in use; after a reload it shows the
 * prompt that was asked.
 *
 * The network cut: the page is served through a fault proxy in front of the
 * gateway; the proxy stops moving bytes (the page stays mid-answer), the
 * browser context goes offline (new connections fail) and the proxy resets
 * every open connection (the live stream breaks), then the context comes
 * back online.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import {
  answerFromLog,
  answerText,
  connections,
  demoStreamId,
  demoTransports,
  launchChromium,
  openDemo,
  outputStates,
  recordConnections,
  recordOutputStates,
  screenshot,
  waitForBody,
  waitForOutput,
} from "../support/browser.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";

let aw: TestAirwave;
let browser: Browser;
beforeAll(async () => {
  // ~2–3 s per answer: long enough to cut (or reload) in the middle of it.
  aw = await startAirwave({ services: { simTtftMs: 50, simTokensPerS: 25 }, gateway: { corsOrigins: [] } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
});

const prompt = "How do radio towers carry a signal over the hills?";

/** The demo's names of its transports, as `#indicator` shows them. */
const transportLabels: Record<string, string> = {
  connect: "Connect",
  "grpc-web": "gRPC-Web",
  sse: "SSE",
  "sse-fetch": "SSE (fetch)",
  ndjson: "NDJSON",
  websocket: "WebSocket",
  "long-poll": "long-poll",
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe.each(demoTransports)("demo page over %s", (transport) => {
  it("shows the whole answer once after the network drops and comes back", async () => {
    let proxy: FaultProxy | undefined;
    const demo = await (async () => {
      proxy = await startFaultProxy({ targetPort: Number(new URL(aw.url).port) });
      return openDemo(browser, proxy.url, transport);
    })();
    const { page, context } = demo;
    try {
      await recordOutputStates(page);
      await recordConnections(page);
      await page.fill("#prompt", prompt);
      await page.click("#send");
      await waitForOutput(page, 20);
      // Freeze the page mid-answer first: nothing more reaches it, however long
      // the steps below take on a loaded machine (the answer lasts ~2–3 s).
      proxy!.faultAll({ kind: "blackhole" });
      const cutAt = (await answerText(page)).length;
      expect(await page.getAttribute("body", "data-state")).toBe("streaming");
      await screenshot(page, `resume-${transport}-1-streaming`);

      await context.setOffline(true);
      proxy!.faultAll({ kind: "reset" });
      await waitForBody(page, "connection", ["reconnecting"], 10_000);
      // The attempt and the transport in use (auto falls back: whichever it is on now), read at one moment.
      const shown = await page.waitForFunction(() => {
        const d = globalThis as unknown as {
          document: { body: { dataset: Record<string, string | undefined> }; querySelector(s: string): { textContent: string } };
        };
        const { attempt, transport: inUse } = d.document.body.dataset;
        return attempt === undefined
          ? false
          : { attempt: Number(attempt), inUse, text: d.document.querySelector("#indicator").textContent };
      });
      const { attempt, inUse, text } = (await shown.jsonValue()) as { attempt: number; inUse: string; text: string };
      expect(attempt).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(
        new RegExp(
          `^(reconnecting over ${escapeRegExp(transportLabels[inUse] ?? "?")}… \\(attempt ${attempt}, [a-z_]+\\)|switching from .+ to .+…)$`,
        ),
      );
      await screenshot(page, `resume-${transport}-2-reconnecting`);
      await context.setOffline(false);

      const after = await waitForBody(page, "connection", ["resumed", "closed"], 30_000);
      if (after === "resumed") await screenshot(page, `resume-${transport}-3-resumed`);
      await waitForBody(page, "state", ["done"]);
      await screenshot(page, `resume-${transport}-4-completed`);

      const final = await answerText(page);
      const log = await answerFromLog(page, await demoStreamId(page));
      expect(log.terminal).toBe("completed");
      expect(final).toBe(log.text); // the whole answer, exactly once
      expect(cutAt).toBeLessThan(final.length); // the cut was mid-answer
      expect(proxy!.cuts).toBeGreaterThan(0);
      const seen = await connections(page);
      expect(seen).toContain("reconnecting");
      expect(seen.slice(seen.indexOf("reconnecting"))).toContain("resumed");
      expect(seen).not.toContain("text-lost");
      expect(await page.textContent("#status")).toMatch(/completed: stop/);
      // Never a duplicate or a rollback on screen: every state extends the one before.
      const states = await outputStates(page);
      for (let i = 1; i < states.length; i++) expect(states[i]!.startsWith(states[i - 1]!)).toBe(true);
    } finally {
      await demo.close();
      await proxy?.close();
    }
  });

  it("resumes the stream after a reload and shows the whole answer once, and the prompt asked", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    try {
      await page.selectOption("#preset", "answer");
      await page.fill("#prompt", prompt);
      await page.click("#send");
      await waitForOutput(page, 20);
      const streamId = await demoStreamId(page);
      expect(streamId).not.toBe("");
      await page.reload();
      await waitForBody(page, "restored", ["true"], 10_000);
      expect(await demoStreamId(page)).toBe(streamId);
      expect(await page.inputValue("#transport")).toBe(transport);
      expect(await page.inputValue("#prompt")).toBe(prompt);
      expect(await page.inputValue("#preset")).toBe("answer");
      if (transport === "connect") await screenshot(page, "reload-connect-1-restored-mid-answer");
      await waitForBody(page, "state", ["done"]);
      await screenshot(page, `reload-${transport}-completed`);
      const final = await answerText(page);
      const log = await answerFromLog(page, streamId);
      expect(log.terminal).toBe("completed");
      expect(final).toBe(log.text);
      expect(await page.textContent("#status")).toMatch(/completed: stop/);
      // Done streams are forgotten: a second reload starts idle, with the page's default prompt.
      await page.reload();
      expect(await page.getAttribute("body", "data-state")).toBe("idle");
      expect(await page.getAttribute("body", "data-restored")).toBeNull();
      expect(await page.inputValue("#prompt")).not.toBe(prompt);
    } finally {
      await close();
    }
  });
});
