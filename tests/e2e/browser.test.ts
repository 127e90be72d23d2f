/**
 * The demo page in headless Chromium, over every transport: the answer
 * (the default preset: a Markdown answer from the simulator) streams in
 * token by token (several intermediate states, not only the final text)
 * and equals the stream's log; while it streams, the page renders its
 * heading, lists, table and code block — the code block while its fence
 * is still open, the table row by row, the code highlighted by a
 * highlight.js language loaded as a lazy chunk only then — and in the end
 * exactly the structure of the answer's Markdown; a plain-text answer
 * renders as its text; and Stop stops the generation all the way to the
 * model's socket.
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import {
  answerFromLog,
  answerText,
  collapseWhitespace,
  demoStreamId,
  demoTransports,
  launchChromium,
  markdownProgress,
  openDemo,
  outputStates,
  type RenderedMarkdown,
  recordMarkdownProgress,
  recordOutputStates,
  renderedMarkdown,
  renderedText,
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
  it("streams the Markdown answer token by token, rendering it as it grows, exactly as the log has it", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    const chunks: { url: string; status: number; type: string | undefined; afterSend: boolean }[] = [];
    let sent = false;
    page.on("response", (r) => {
      if (r.url().includes("/chunks/"))
        chunks.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"], afterSend: sent });
    });
    expect(await page.inputValue("#preset")).toBe("markdown");
    await recordOutputStates(page);
    await recordMarkdownProgress(page);
    await page.fill("#prompt", "How do lighthouses guide ships at night?");
    sent = true;
    await page.click("#send");
    await waitForOutput(page, 0);
    expect(await page.getAttribute("body", "data-connection")).toBe("live");
    if (transport === "connect") await screenshot(page, "streaming");
    await page.waitForSelector("#output .md-code", { timeout: 30_000 });
    if (transport === "connect") await screenshot(page, "streaming-markdown");
    await waitForBody(page, "state", ["done"]);
    const states = await outputStates(page);
    const final = await answerText(page);
    expect(final).toMatch(/lighthouse/i);
    expect(await answerFromLog(page, await demoStreamId(page))).toMatchObject({ text: final, terminal: "completed" });
    const intermediate = states.filter((s) => s !== "" && s !== final);
    expect(intermediate.length).toBeGreaterThanOrEqual(5);
    // Each state extends the previous one: the text grows, never jumps back.
    for (let i = 1; i < states.length; i++) expect(states[i]!.startsWith(states[i - 1]!)).toBe(true);

    // Rendered while streaming, half-way states included; in the end exactly the answer's structure.
    const progress = await markdownProgress(page);
    expect(progress.first).toEqual({
      heading: "streaming",
      list: "streaming",
      table: "streaming",
      code: "streaming",
      highlighted: "streaming",
    });
    expect(progress.openFence).toBe(true);
    expect(progress.tableRows.some((n) => n > 1 && n < 4)).toBe(true);
    const rendered = await renderedMarkdown(page);
    expect(rendered).toEqual(structureOf(final));
    expect(rendered.code[0]?.tokens).toBeGreaterThan(0);
    // highlight.js came as lazy chunks, fetched once there was code to show, as JavaScript.
    const language = rendered.code[0]?.language ?? "";
    const lazy = chunks.filter((c) => /\/chunks\/(core|[a-z]+)-[A-Z0-9]+\.js$/.test(c.url) && !/\/chunk-/.test(c.url));
    expect(lazy.map((c) => c.url.match(/\/chunks\/([a-z]+)-/)?.[1]).sort()).toEqual(["core", language].sort());
    for (const c of lazy) expect(c).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8", afterSend: true });

    expect(await page.textContent("#status")).toMatch(/completed: stop/);
    expect(await page.getAttribute("body", "data-connection")).toBe("closed");
    if (transport === "connect") await screenshot(page, "completed");
    await close();
  });

  it("renders a plain-text answer as its text", async () => {
    const { page, close } = await openDemo(browser, aw.url, transport);
    await page.selectOption("#preset", "answer");
    await page.fill("#prompt", "How do tides rise and fall?");
    await page.click("#send");
    await waitForBody(page, "state", ["done"]);
    const final = await answerText(page);
    expect(final).toMatch(/tides/i);
    expect(await answerFromLog(page, await demoStreamId(page))).toMatchObject({ text: final, terminal: "completed" });
    expect(await renderedText(page)).toBe(collapseWhitespace(final));
    expect(await page.locator("#output p").count()).toBe(final.split("\n\n").length);
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

describe("the demo page's own files", () => {
  it("load without an error response, the icon included", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const failed: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${aw.url}/`, { waitUntil: "load" });
      const icon = await page.evaluate(async () => {
        const link = (globalThis as unknown as { document: { querySelector(s: string): { href: string } | null } }).document.querySelector(
          'link[rel="icon"]',
        );
        if (!link) return undefined;
        const res = await fetch(link.href);
        return { status: res.status, type: res.headers.get("content-type"), body: (await res.text()).slice(0, 4) };
      });
      expect(icon).toEqual({ status: 200, type: "image/svg+xml", body: "<svg" });
      expect(failed).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** The fence info strings of the simulator's code blocks, as the page names their highlight.js languages. */
const languages: Record<string, string> = { ts: "typescript", python: "python", bash: "bash", json: "json" };

/**
 * What the page must render for the simulator's Markdown answer, read from
 * its source line by line (the document's shape is the simulator's:
 * `services/src/providers/simulator/compose-markdown.ts`), independently of
 * the page's parser.
 */
function structureOf(markdown: string): RenderedMarkdown {
  const inline = (t: string) => t.replace(/\*\*|`/g, "").trim();
  const r = { headings: [] as [string, string][], bullets: [] as string[], numbered: [] as string[], tables: [] as string[][][] };
  const code: RenderedMarkdown["code"][number][] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```(\w*)$/.exec(line);
    if (fence) {
      const end = lines.indexOf("```", i + 1);
      code.push({ language: languages[fence[1]!], text: `${lines.slice(i + 1, end).join("\n")}\n`, tokens: 0, copy: true });
      i = end;
      continue;
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) r.headings.push([`h${heading[1]!.length}`, inline(heading[2]!)]);
    else if (line.startsWith("- ")) r.bullets.push(inline(line.slice(2)));
    else if (/^\d+\. /.test(line)) r.numbered.push(inline(line.replace(/^\d+\. /, "")));
    else if (line.startsWith("|")) {
      if (!lines[i - 1]?.startsWith("|")) r.tables.push([]);
      if (!/^\|( *:?-+:? *\|)+$/.test(line))
        r.tables.at(-1)!.push(
          line
            .slice(1, -1)
            .split("|")
            .map((c) => c.trim()),
        );
    }
  }
  // Any number of highlight.js tokens (asserted apart).
  return { ...r, code: code.map((c) => ({ ...c, tokens: expect.any(Number) as number })) };
}

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
