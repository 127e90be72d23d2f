/**
 * `@airwave/react` in headless Chromium, through the real gateway and the
 * simulator: the example chat (react/example, bundled with esbuild and
 * served by the gateway) streams an answer over every transport exactly as
 * the log has it, Stop cancels the generation, and a reload mid-answer
 * resumes the saved stream on mount (storage holds its id and cursor, not
 * the text) and shows the whole answer once.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { answerFromLog, launchChromium, screenshot } from "../support/browser.js";

// biome-ignore lint/suspicious/noExplicitAny: page functions run in the browser; the DOM is not in this lib
declare const document: any, window: any, MutationObserver: any, sessionStorage: any;

/** The client's seven transports (`transportNames` of `@airwave/web`, whose DOM types stay out of this Node-side program). */
const transports = ["connect", "grpc-web", "sse", "sse-fetch", "ndjson", "websocket", "long-poll"] as const;
type TransportName = (typeof transports)[number];

let aw: TestAirwave;
let browser: Browser;
let webDir: string;
beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), "airwave-react-example-"));
  execFileSync(process.execPath, [resolve(import.meta.dirname, "../../react/example/build.mjs"), webDir], { stdio: "pipe" });
  // Paced so that the answer visibly grows and a reload lands mid-answer: ~2 s per answer.
  aw = await startAirwave({ services: { simTtftMs: 50, simTokensPerS: 30 }, gateway: { corsOrigins: [], webDir } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

/** Opens the example chat over `transport` in its own context. */
async function open(transport: TransportName) {
  const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error (${transport}):`, e));
  await page.goto(`${aw.url}/?transport=${transport}`);
  await waitForStatus(page, ["ready"]);
  return { page, close: () => context.close() };
}

function waitForStatus(page: Page, values: readonly string[], timeout = 30_000) {
  return page.waitForFunction((vs) => vs.includes(document.querySelector("main")?.dataset.status), [...values], { timeout });
}

/** The assistant messages: their ids (= stream ids) and text. */
function assistants(page: Page): Promise<{ id: string; text: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('#messages > li[data-role="assistant"]')].map(
      (li: { dataset: { id: string }; querySelectorAll: (s: string) => { textContent: string }[] }) => ({
        id: li.dataset.id,
        text: [...li.querySelectorAll(".text")].map((t) => t.textContent).join(""),
      }),
    ),
  );
}

/** Records each distinct text of the assistant's answer in `window.states`. */
function recordStates(page: Page): Promise<void> {
  return page.evaluate(() => {
    const w = window as { states: string[] };
    w.states = [];
    new MutationObserver(() => {
      const t = [...document.querySelectorAll('#messages > li[data-role="assistant"] .text')]
        .map((e: { textContent: string }) => e.textContent)
        .join("");
      if (t !== w.states.at(-1)) w.states.push(t);
    }).observe(document.querySelector("#messages"), { childList: true, characterData: true, subtree: true });
  });
}

async function ask(page: Page, prompt: string): Promise<void> {
  await page.fill("#prompt", prompt);
  await page.click("#send");
}

async function waitForAnswer(page: Page, chars: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll('#messages > li[data-role="assistant"] .text')]
        .map((e: { textContent: string }) => e.textContent)
        .join("").length > n,
    chars,
    { timeout: 30_000 },
  );
}

describe.each(transports)("the example chat over %s", (transport) => {
  it("streams the answer token by token, exactly as the log has it, and ends ready", async () => {
    const { page, close } = await open(transport);
    try {
      await recordStates(page);
      await ask(page, "How do lighthouses guide ships at night?");
      await waitForStatus(page, ["streaming"]);
      await waitForStatus(page, ["ready", "error"]);
      expect(await page.getAttribute("main", "data-status")).toBe("ready");
      const [answer, ...more] = await assistants(page);
      expect(more).toEqual([]);
      expect(answer!.text).toMatch(/lighthouse/i);
      expect(await answerFromLog(page, answer!.id)).toMatchObject({ text: answer!.text, terminal: "completed" });
      const states: string[] = await page.evaluate(() => (window as { states: string[] }).states);
      expect(states.filter((s) => s !== "" && s !== answer!.text).length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < states.length; i++) expect(states[i]!.startsWith(states[i - 1]!)).toBe(true);
      expect(await page.getAttribute("main", "data-connection")).toBe("closed");
      if (transport === "websocket") await screenshot(page, "react-chat-completed");
    } finally {
      await close();
    }
  });
});

describe("the example chat", () => {
  it("the README's ten-line component streams an answer and ends with Send enabled again", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${aw.url}/?minimal`);
      await page.fill("input", "How do lighthouses guide ships at night?");
      await page.press("input", "Enter");
      await page.waitForFunction(() => document.querySelector('button[type="button"]')?.disabled === false); // Stop, while busy
      await page.waitForFunction(() => document.querySelector('button[type="submit"]')?.disabled === false, undefined, { timeout: 30_000 });
      const lines = await page.$$eval("form > p", (ps) => ps.map((p) => p.textContent ?? ""));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe("user: How do lighthouses guide ships at night?");
      expect(lines[1]).toMatch(/^assistant: .*lighthouse/i);
    } finally {
      await context.close();
    }
  });

  it("Stop cancels the generation: the page keeps the text the log has, up to completed(cancelled)", async () => {
    const { page, close } = await open("websocket");
    try {
      await ask(page, "Write a very long essay about the sea");
      await waitForAnswer(page, 20);
      await page.click("#stop");
      await waitForStatus(page, ["ready"], 10_000);
      const [answer] = await assistants(page);
      expect(await answerFromLog(page, answer!.id)).toMatchObject({ text: answer!.text, terminal: "completed" });
      const res = await page.evaluate(async (id: string) => (await fetch(`/v1/streams/${id}`)).json(), answer!.id);
      expect(JSON.stringify(res)).toMatch(/CANCELLED/);
    } finally {
      await close();
    }
  });

  it.each([
    ["websocket", "confirm", "yes"],
    ["long-poll", "choice", "short"],
  ] as const)(
    "over %s, the agent's %s question is answered with answerInput and the stream logs the answer",
    async (transport, input, answer) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${aw.url}/?transport=${transport}&model=simulator/agent&input=${input}`);
        await waitForStatus(page, ["ready"]);
        await ask(page, "Plan a trip to the coast");
        const button = `button[data-input-id][data-answer="${answer}"]`;
        await page.waitForSelector(button, { timeout: 30_000 });
        if (transport === "websocket") await screenshot(page, "react-chat-input-requested");
        await page.click(button);
        await page.waitForSelector(`.input >> text=Answered: ${answer}`, { timeout: 10_000 });
        await waitForStatus(page, ["ready", "error"]);
        expect(await page.getAttribute("main", "data-status")).toBe("ready");
        const [message] = await assistants(page);
        const log = await answerFromLog(page, message!.id, "writer");
        expect(log.terminal).toBe("completed");
        expect(log.answered).toEqual([{ inputId: expect.any(String), text: answer }]);
        expect(message!.text).toContain(log.text); // the writer's text, among the agents' parts
      } finally {
        await context.close();
      }
    },
  );

  it.each(["websocket", "sse"] as const)(
    "over %s, a reload mid-answer resumes the saved stream on mount and shows the whole answer once",
    async (transport) => {
      const { page, close } = await open(transport);
      try {
        await ask(page, "How do radio towers carry a signal over the hills?");
        await waitForAnswer(page, 20);
        const [before] = await assistants(page);
        const saved = await page.evaluate(() => sessionStorage.getItem("airwave.chat.default"));
        expect(JSON.parse(saved)).toEqual([{ streamId: before!.id, cursor: expect.stringMatching(/^[\w-]+:\d+$/) }]);
        expect(saved).not.toContain(before!.text.slice(0, 20)); // the cursor, never the text
        expect(await page.getAttribute("main", "data-status")).toBe("streaming");

        await page.reload();
        await waitForStatus(page, ["ready", "error"]);
        expect(await page.getAttribute("main", "data-status")).toBe("ready");
        const after = await assistants(page);
        expect(after.map((a) => a.id)).toEqual([before!.id]);
        const log = await answerFromLog(page, before!.id);
        expect(log.terminal).toBe("completed");
        expect(after[0]!.text).toBe(log.text); // exactly once: no duplicated or lost text
        expect(after[0]!.text.startsWith(before!.text)).toBe(true);
        expect(await page.evaluate(() => sessionStorage.getItem("airwave.chat.default"))).toBeNull();
        if (transport === "websocket") await screenshot(page, "react-chat-resumed");
      } finally {
        await close();
      }
    },
  );
});
