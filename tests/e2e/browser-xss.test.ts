/**
 * A hostile answer in the real demo page, over the real gateway: the
 * simulator echoes (`simulator.echo`, the demo's "Echo the prompt" preset)
 * benign Markdown around ~43 payloads in the manner of the OWASP XSS Filter
 * Evasion Cheat Sheet (`web/src/testing/xss-payloads.ts`: script tags,
 * event handlers, `javascript:`/`data:` URLs, SVG and MathML tricks, CSS
 * and resource loads, DOM clobbering), each aimed at a listening
 * 127.0.0.1 beacon server, streamed in small fragments so that every
 * half-way state is rendered too. Nothing may execute or load: no dialog,
 * no request to the beacon, no new script (or other loading) element — a
 * MutationObserver check that holds with or without a CSP — no
 * `javascript:`/`data:` URL or event handler attribute left in the DOM;
 * while the benign Markdown (headings, a list, a table, a highlighted code
 * block, a link) still renders. Each detector is probed at the end (a real
 * alert, fetch and script insertion are seen), so a silent detector cannot
 * pass the test.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxEchoChars } from "../../services/src/providers/simulator/simulator-metadata.js";
import { benignMarkdown, xssPayloads } from "../../web/src/testing/xss-payloads.js";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import {
  answerFromLog,
  answerText,
  type DemoTransport,
  demoStreamId,
  launchChromium,
  markdownProgress,
  openDemo,
  recordMarkdownProgress,
  renderedMarkdown,
  screenshot,
  waitForBody,
} from "../support/browser.js";

// Functions passed to page.evaluate run in the browser; the tests are type-checked against Node's lib.
// biome-ignore lint/suspicious/noExplicitAny: page functions run in the browser; the DOM is not in this lib
declare const document: any, window: any, MutationObserver: any;

let aw: TestAirwave;
let browser: Browser;
let beacon: { url: string; hits: string[]; server: Server };
beforeAll(async () => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(204, { "access-control-allow-origin": "*" }).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  beacon = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
  // ~1,000 fragments of 2–8 characters at 500 a second: about two seconds of half-way states.
  aw = await startAirwave({ services: { simTtftMs: 20, simTokensPerS: 500 }, gateway: { corsOrigins: [] } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await aw?.close();
  await new Promise((r) => beacon?.server.close(r));
});

/** Elements that run code or load something by themselves; the demo never adds one after its load. */
const loading = [
  "script",
  "iframe",
  "frame",
  "object",
  "embed",
  "base",
  "meta",
  "link",
  "style",
  "img",
  "image",
  "video",
  "audio",
  "source",
];
const loadingSelector = loading.join(", ");

describe.each<DemoTransport>(["auto", "connect"])("a hostile answer over %s", (transport) => {
  it("executes and loads nothing, and the benign Markdown still renders", async () => {
    const hostile = `${benignMarkdown}\n\n${xssPayloads(beacon.url).join("\n\n")}\n\n${benignMarkdown}\n`;
    expect(hostile.length).toBeLessThanOrEqual(maxEchoChars);
    const hitsBefore = beacon.hits.length;
    const { page, close } = await openDemo(browser, aw.url, transport);
    try {
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      });
      const requested: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(aw.url) && !r.url().startsWith("data:")) requested.push(r.url());
      });
      // Every element added anywhere in the document from now on that runs code or loads something.
      await page.evaluate((tags) => {
        const w = window as { added: string[] };
        w.added = [];
        const note = (n: { nodeType: number; localName: string; querySelectorAll(s: string): Iterable<{ localName: string }> }) => {
          if (n.nodeType !== 1) return;
          if (tags.includes(n.localName)) w.added.push(n.localName);
          for (const d of n.querySelectorAll(tags.join(", "))) w.added.push(d.localName);
        };
        new MutationObserver((records: { addedNodes: Iterable<never> }[]) => {
          for (const r of records) for (const n of r.addedNodes) note(n);
        }).observe(document, { childList: true, subtree: true });
      }, loading);

      await recordMarkdownProgress(page);
      await page.selectOption("#preset", "echo");
      await page.fill("#prompt", hostile);
      await page.click("#send");
      await waitForBody(page, "state", ["done"]);
      // The half-way states were rendered (and sanitised) too, not only the whole answer.
      expect((await markdownProgress(page)).first).toMatchObject({ heading: "streaming", table: "streaming", code: "streaming" });
      if (transport === "auto") await screenshot(page, "xss-completed");

      // The answer is the hostile text, exactly, as the log has it.
      expect(await page.textContent("#status")).toMatch(/completed: stop/);
      const shown = await answerText(page);
      expect(shown).toBe(hostile);
      expect(await answerFromLog(page, await demoStreamId(page))).toMatchObject({ text: hostile, terminal: "completed" });

      // Nothing ran, nothing loaded, nothing is left that could.
      expect(dialogs).toEqual([]);
      expect(requested).toEqual([]);
      expect(beacon.hits.slice(hitsBefore)).toEqual([]);
      expect(await page.evaluate(() => (window as { added: string[] }).added)).toEqual([]);
      const left = await page.evaluate((sel) => {
        const out = document.querySelector("#output");
        const bad: string[] = [];
        for (const e of out.querySelectorAll(sel)) bad.push(`element ${e.localName}`);
        for (const e of document.querySelectorAll("*")) {
          for (const a of e.attributes) {
            // As a URL parser reads it: without spaces and control characters.
            const value = [...String(a.value)].filter((c) => c.charCodeAt(0) > 0x20).join("");
            if (/^(javascript|vbscript|data):/i.test(value)) bad.push(`${e.localName}[${a.name}=${a.value}]`);
            if (
              e !== out &&
              out.contains(e) &&
              (/^on/i.test(a.name) || ["style", "id", "name", "srcdoc", "ping", "action", "formaction"].includes(a.name))
            ) {
              bad.push(`${e.localName}[${a.name}]`);
            }
          }
        }
        for (const e of out.querySelectorAll("svg, math, form, input, template, noscript, marquee")) bad.push(`element ${e.localName}`);
        return bad;
      }, loadingSelector);
      expect(left).toEqual([]);
      // DOM clobbering did not replace the page's own global.
      expect(await page.evaluate(() => typeof (window as { airwaveDemo?: { answerText?: unknown } }).airwaveDemo?.answerText)).toBe(
        "function",
      );

      // The benign Markdown rendered, both copies, with a highlighted code block and a real link.
      const md = await renderedMarkdown(page);
      expect(md.headings.filter(([, t]) => t === "Safe heading")).toEqual([
        ["h1", "Safe heading"],
        ["h1", "Safe heading"],
      ]);
      expect(md.bullets.filter((b) => b === "first item" || b === "second item with bold")).toHaveLength(4);
      const benignTable = [
        ["name", "value"],
        ["alpha", "1"],
        ["beta", "2"],
      ];
      expect(md.tables.filter((t) => JSON.stringify(t) === JSON.stringify(benignTable))).toHaveLength(2);
      const add = md.code.filter((c) => c.language === "javascript");
      expect(add).toHaveLength(2);
      for (const c of add) {
        expect(c.text).toBe("function add(a, b) {\n  return a + b;\n}\n");
        expect(c.tokens).toBeGreaterThan(0);
        expect(c.copy).toBe(true);
      }
      // The fenced payload shows as code, as text.
      expect(md.code.some((c) => c.language === "xml" && c.text.includes(`<script>fetch('${beacon.url}/in-code')</script>`))).toBe(true);
      expect(await page.locator('#output a[href="https://example.com/docs"][rel~="noopener"]').count()).toBe(2);
      expect(await page.locator("#output strong", { hasText: "bold" }).count()).toBe(2);

      // The detectors work: a real alert, a real request and a real script element are each seen.
      await page.evaluate(() => window.alert("probe"));
      expect(dialogs).toEqual(["alert: probe"]);
      await page.evaluate(async (url) => {
        await fetch(`${url}/probe`, { mode: "no-cors" });
      }, beacon.url);
      expect(beacon.hits.slice(hitsBefore)).toEqual(["GET /probe"]);
      expect(requested).toEqual([`${beacon.url}/probe`]);
      await page.evaluate(() => {
        document.body.append(document.createElement("script"));
      });
      await page.waitForFunction(() => (window as { added: string[] }).added.length > 0);
      expect(await page.evaluate(() => (window as { added: string[] }).added)).toEqual(["script"]);
    } finally {
      await close();
    }
  });
});
