import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";

export { chromiumPath, launchChromium } from "./chromium.js";

/** Where the browser suites save their screenshots: CI output, git-ignored (`/test-results/`). */
export const screenshotsDir = resolve(import.meta.dirname, "../../test-results/screenshots");

/** Every transport of the demo page's `#transport`: the client's seven, then "auto" (WebSocket → SSE → long-poll). */
export const demoTransports = ["connect", "grpc-web", "sse", "sse-fetch", "ndjson", "websocket", "long-poll", "auto"] as const;

/** A value of the demo page's `#transport`. */
export type DemoTransport = (typeof demoTransports)[number];

// Functions passed to page.evaluate run in the browser; the tests are
// type-checked against Node's lib, so the few DOM names are declared here.
// biome-ignore lint/suspicious/noExplicitAny: page functions run in the browser; the DOM is not in this lib
declare const document: any, window: any, MutationObserver: any;

/** The demo page open in its own browser context (own cookies, own offline switch). */
export interface DemoPage {
  readonly page: Page;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Opens the demo page at `url` (the gateway, or a proxy in front of it) in a
 * new browser context with `transport` selected. Page errors fail loudly in
 * the log. @private test support
 */
export async function openDemo(browser: Browser, url: string, transport: DemoTransport): Promise<DemoPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error (${transport}):`, e));
  await page.goto(`${url}/?transport=${transport}`);
  await page.selectOption("#transport", transport);
  return { page, context, close: () => context.close() };
}

/**
 * The exact answer text the demo page shows: `#output`'s text blocks (the
 * Markdown source it renders), or with `agent` that agent lane's
 * (`window.airwaveDemo.answerText`).
 */
export function answerText(page: Page, agent?: string): Promise<string> {
  return page.evaluate(
    (a) => (window as unknown as { airwaveDemo?: { answerText(agent?: string): string } }).airwaveDemo?.answerText(a ?? undefined) ?? "",
    agent ?? null,
  );
}

/**
 * Records every distinct answer text `#output` shows ({@link answerText},
 * read on each change of its DOM) in `window.states`, to check that the
 * answer grows token by token and never jumps back.
 */
export async function recordOutputStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { states: string[]; airwaveDemo?: { answerText(): string } };
    w.states = [];
    const out = document.querySelector("#output");
    new MutationObserver(() => {
      const t = w.airwaveDemo?.answerText() ?? "";
      if (t !== w.states.at(-1)) w.states.push(t);
    }).observe(out, { childList: true, characterData: true, subtree: true });
  });
}

/** The states {@link recordOutputStates} saw. */
export function outputStates(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { states: string[] }).states);
}

/** Waits until `body[data-<name>]` equals one of `values`. */
export async function waitForBody(page: Page, name: string, values: readonly string[], timeoutMs = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    ([n, vs]) => {
      const v = document.body.dataset[n as string];
      return (vs as string[]).includes(v) ? v : false;
    },
    [name, [...values]] as const,
    { timeout: timeoutMs },
  );
  return (await handle.jsonValue()) as string;
}

/** Waits until `#output` shows more than `chars` characters of answer text ({@link answerText}) and renders some. */
export async function waitForOutput(page: Page, chars: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    (n) =>
      ((window as unknown as { airwaveDemo?: { answerText(): string } }).airwaveDemo?.answerText() ?? "").length > n &&
      (document.querySelector("#output")?.textContent ?? "") !== "",
    chars,
    { timeout: timeoutMs },
  );
}

/**
 * The text `#output` renders (its `innerText`: what a reader sees, block
 * breaks as newlines), whitespace runs collapsed to one space and trimmed.
 * For an answer without Markdown syntax it equals the answer text
 * collapsed the same way ({@link collapseWhitespace}).
 */
export async function renderedText(page: Page, selector = "#output"): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees (block breaks), which textContent does not give
  return collapseWhitespace(await page.evaluate((sel) => document.querySelector(sel)?.innerText ?? "", selector));
}

/** `text` with whitespace runs collapsed to one space, trimmed. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The Markdown structure `#output` renders, read from its DOM. */
export interface RenderedMarkdown {
  /** Text of each heading, with its level: `["h2", "Overview of tides"]`. */
  readonly headings: readonly (readonly [string, string])[];
  /** Text of each list item of bulleted (`ul`) and numbered (`ol`) lists. */
  readonly bullets: readonly string[];
  readonly numbered: readonly string[];
  /** Each table's rows (header row first), each row's cell texts. */
  readonly tables: readonly (readonly (readonly string[])[])[];
  /** Each code block: its `data-language`, its code text, highlight.js token spans in it, and whether it has a copy button. */
  readonly code: readonly { language: string | undefined; text: string; tokens: number; copy: boolean }[];
}

/** Reads {@link RenderedMarkdown} from `#output`. */
export function renderedMarkdown(page: Page): Promise<RenderedMarkdown> {
  return page.evaluate(() => {
    const out = document.querySelector("#output");
    const all = (sel: string) => [...out.querySelectorAll(sel)];
    const text = (e: { textContent: string | null }) => (e.textContent ?? "").trim();
    return {
      headings: all("h1, h2, h3, h4, h5, h6").map((h) => [h.tagName.toLowerCase(), text(h)] as [string, string]),
      bullets: all("ul > li").map(text),
      numbered: all("ol > li").map(text),
      tables: all("table").map((t) => [...t.querySelectorAll("tr")].map((r) => [...r.querySelectorAll("th, td")].map(text))),
      code: all(".md-code").map((box) => ({
        language: box.dataset.language,
        text: box.querySelector("pre code")?.textContent ?? "",
        tokens: box.querySelectorAll('pre code.hljs span[class^="hljs-"]').length,
        copy: box.querySelector("button.md-copy") !== null,
      })),
    };
  });
}

/**
 * Records, while the page streams, when each Markdown construct first
 * appears in `#output` — a heading, a list item, a table row, a code
 * block, a highlighted code block — with `body[data-state]` at that
 * moment, and the half-way states seen: a code block rendered while the
 * answer text had an unclosed fence, and each distinct number of table
 * rows. Read it with {@link markdownProgress}.
 */
export async function recordMarkdownProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as {
      markdownProgress: { first: Record<string, string>; openFence: boolean; tableRows: number[] };
      airwaveDemo?: { answerText(): string };
    };
    const p = { first: {} as Record<string, string>, openFence: false, tableRows: [] as number[] };
    w.markdownProgress = p;
    const out = document.querySelector("#output");
    const selectors: Record<string, string> = {
      heading: "h1, h2, h3",
      list: "ul > li, ol > li",
      table: "table tr",
      code: ".md-code pre code",
      highlighted: '.md-code pre code.hljs span[class^="hljs-"]',
    };
    new MutationObserver(() => {
      for (const [name, sel] of Object.entries(selectors)) {
        if (p.first[name] === undefined && out.querySelector(sel)) p.first[name] = document.body.dataset.state;
      }
      const text = w.airwaveDemo?.answerText() ?? "";
      const fences = text.match(/^```/gm)?.length ?? 0;
      if (fences % 2 === 1 && (out.querySelector(".md-code pre code")?.textContent ?? "") !== "") p.openFence = true;
      const rows = out.querySelectorAll("table tr").length;
      if (rows > 0 && !p.tableRows.includes(rows)) p.tableRows.push(rows);
    }).observe(out, { childList: true, characterData: true, subtree: true });
  });
}

/** What {@link recordMarkdownProgress} saw. */
export function markdownProgress(page: Page): Promise<{ first: Record<string, string>; openFence: boolean; tableRows: number[] }> {
  return page.evaluate(
    () =>
      (window as unknown as { markdownProgress: { first: Record<string, string>; openFence: boolean; tableRows: number[] } })
        .markdownProgress,
  );
}

/** The stream the demo page shows (`window.airwaveDemo.streamId`). */
export async function demoStreamId(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { airwaveDemo?: { streamId: string } }).airwaveDemo?.streamId ?? "");
}

/**
 * Reads stream `streamId` from the gateway's log — `GET /v1/streams/{id}/events`
 * as NDJSON, fetched by the page so that it carries the page's identity
 * (the stream's owner) — and returns the concatenated `text_delta` text of
 * agent `agentId` ("" the main agent), the terminal event's kind, and the
 * `input_answered` events.
 */
export async function answerFromLog(
  page: Page,
  streamId: string,
  agentId = "",
): Promise<{ text: string; terminal: string; answered: { inputId: string; text: string }[] }> {
  const body = await page.evaluate(async (id) => {
    const res = await fetch(`/v1/streams/${encodeURIComponent(id)}/events`, { headers: { Accept: "application/x-ndjson" } });
    if (!res.ok) throw new Error(`GET events: HTTP ${res.status}: ${await res.text()}`);
    return res.text();
  }, streamId);
  let text = "";
  let terminal = "";
  const answered: { inputId: string; text: string }[] = [];
  for (const line of body.split("\n")) {
    if (line.trim() === "") continue;
    const m = JSON.parse(line) as { event?: Record<string, unknown> & { agentId?: string }; error?: unknown };
    if (m.error !== undefined) throw new Error(`GET events ended with an error: ${JSON.stringify(m.error)}`);
    const e = m.event;
    if (e === undefined) continue;
    if (e["completed"] !== undefined) terminal = "completed";
    if (e["failed"] !== undefined) terminal = "failed";
    const delta = e["textDelta"] as { text?: string } | undefined;
    if (delta !== undefined && (e.agentId ?? "") === agentId) text += delta.text ?? "";
    const answer = e["inputAnswered"] as { inputId?: string; text?: string } | undefined;
    if (answer !== undefined) answered.push({ inputId: answer.inputId ?? "", text: answer.text ?? "" });
  }
  return { text, terminal, answered };
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotsDir, { recursive: true });
  const path = join(screenshotsDir, `${name.replace(/[^A-Za-z0-9_.-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Records every value `body[data-connection]` takes in `window.connections`, the current one first. */
export async function recordConnections(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { connections: string[] };
    w.connections = [document.body.dataset.connection];
    new MutationObserver(() => {
      const c = document.body.dataset.connection;
      if (c !== w.connections.at(-1)) w.connections.push(c);
    }).observe(document.body, { attributes: true, attributeFilter: ["data-connection"] });
  });
}

/** The values {@link recordConnections} saw. */
export function connections(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { connections: string[] }).connections);
}
