/**
 * The rendering section of the bench (`npm run bench -- --only=render`):
 * the streaming Markdown view of `@airwave/web/render` in headless
 * Chromium, on a page bundled with esbuild from the library's sources
 * (bench/src/render-page.ts).
 *
 * - `render cost`: a realistic answer ({@link markdownSample}) of 10 KB,
 *   1 MB and 10 MB streamed in deltas of 4 characters with one `sync` per
 *   frame-sized batch; time and V8 bytes allocated per appended KB, and the
 *   ratio of the per-KB cost at each size to the 10 KB one (linear work
 *   keeps it near 1).
 * - `render long answer`: a conversation of 200 messages whose last answer (10 MB)
 *   streams in per animation frame; long tasks, heap after the stream,
 *   frames per second while scrolling, with containment (the library's
 *   default) and without.
 * @module
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { build } from "esbuild";
import type { Browser, CDPSession, Page } from "playwright-core";
import { launchChromium } from "../../tests/support/chromium.ts";
import type { LongAnswerOptions, LongAnswerResult, RenderCostOptions, RenderCostResult } from "./render-page.ts";
import type { GoalCheck, ResultRow } from "./report.ts";

/** Debian's Chromium; `AIRWAVE_CHROMIUM` overrides it (never a downloaded build). */

/** The page's origin (served by `page.route`, nothing listens on it). */
const origin = "http://render.bench";

/** Bundles bench/src/render-page.ts (and the library's sources it imports) into one ES module, as text. */
export async function bundleRenderPage(): Promise<string> {
  const r = await build({
    entryPoints: [resolve(import.meta.dirname, "render-page.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@airwave/source"],
    logLevel: "warning",
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error("esbuild wrote no output for render-page.ts");
  return out.text;
}

const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; }
.answer { width: 760px; }
.list { height: 100vh; width: 800px; overflow-y: auto; }
.message { padding: 0 20px; }
.message.user { font-weight: 600; }
pre { white-space: pre-wrap; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
</style></head><body><script type="module" src="/page.js"></script></body></html>`;

/** The bench page in a fresh context (1100 × 900), with a CDP session for heap figures. */
export interface RenderPage {
  readonly page: Page;
  readonly cdp: CDPSession;
  renderCost(o: RenderCostOptions): Promise<RenderCostResult>;
  longAnswer(o: LongAnswerOptions): Promise<LongAnswerResult>;
  /** V8 heap and Blink's (Oilpan: the DOM) after a full GC, in bytes. */
  heap(): Promise<{ js: number; dom: number }>;
  /** Bytes V8 allocated while `run` ran (sampling heap profiler, collected objects included; ~64 KiB sampling interval). */
  allocated(run: () => Promise<unknown>): Promise<number>;
  /** Drops what the last long answer left (DOM, the model's text, storage). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the bench page (`bundle` from {@link bundleRenderPage}) in a new context of `browser`. */
export async function openRenderPage(browser: Browser, bundle: string): Promise<RenderPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.route(`${origin}/**`, (route) => {
    const js = route.request().url().endsWith("/page.js");
    return route.fulfill({ status: 200, contentType: js ? "text/javascript" : "text/html", body: js ? bundle : html });
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "renderBench" in window);
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.enable");
  const check = <T>(v: T): T => {
    if (errors.length > 0) throw new Error(`render page: ${errors.map((e) => e.message).join("; ")}`);
    return v;
  };
  type Bench = {
    renderCost(o: RenderCostOptions): Promise<RenderCostResult>;
    longAnswer(o: LongAnswerOptions): Promise<LongAnswerResult>;
    reset(): void;
  };
  const bench = () => (window as unknown as { renderBench: Bench }).renderBench;
  return {
    page,
    cdp,
    renderCost: async (o) => check(await page.evaluate(`(${bench})().renderCost(${JSON.stringify(o)})`)),
    longAnswer: async (o) => check(await page.evaluate(`(${bench})().longAnswer(${JSON.stringify(o)})`)),
    async heap() {
      await cdp.send("HeapProfiler.collectGarbage");
      await cdp.send("HeapProfiler.collectGarbage");
      const u = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number; embedderHeapUsedSize?: number };
      return { js: u.usedSize, dom: u.embedderHeapUsedSize ?? Number.NaN };
    },
    async allocated(run) {
      await cdp.send("HeapProfiler.startSampling", {
        samplingInterval: 65536,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as { samplingInterval: number });
      await run();
      const { profile } = await cdp.send("HeapProfiler.stopSampling");
      let bytes = 0;
      const walk = (n: { selfSize: number; children: (typeof n)[] }) => {
        bytes += n.selfSize;
        for (const c of n.children) walk(c);
      };
      walk(profile.head);
      return check(bytes);
    },
    reset: async () => check(await page.evaluate(`(${bench})().reset()`)),
    close: () => context.close(),
  };
}

/** Sizes of the render-cost runs, in UTF-16 code units. */
const costSizes = [10 * 1024, 1024 * 1024, 10 * 1024 * 1024] as const;

const kb = (chars: number) => chars / 1024;
const sizeName = (chars: number) => {
  const [n, unit] = chars >= 1024 * 1024 ? [chars / 1024 / 1024, "MB"] : [chars / 1024, "KB"];
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
};
const range = (xs: readonly number[], d: number) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo.toFixed(d) === hi.toFixed(d) ? lo.toFixed(d) : `${lo.toFixed(d)}–${hi.toFixed(d)}`;
};
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** Options of {@link runRenderBench}. */
export interface RenderBenchOptions {
  /** Fewer repetitions (the CI size). */
  readonly quick: boolean;
  /** Which parts run ("render cost", "render long answer"), by the bench's `--only` prefixes. */
  readonly want: (scenario: string) => boolean;
  readonly log: (line: string) => void;
}

/** What {@link runRenderBench} measured: rows for the results file, lines for stdout, goals. */
export interface RenderBenchResult {
  readonly rows: ResultRow[];
  readonly printout: string;
  readonly goals: GoalCheck[];
}

/** Runs the rendering section; see the module's description. */
export async function runRenderBench(o: RenderBenchOptions): Promise<RenderBenchResult> {
  const bundle = await bundleRenderPage();
  const browser = await launchChromium();
  const rows: ResultRow[] = [];
  const lines: string[] = [];
  const goals: GoalCheck[] = [];
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" / ");
  lines.push(`Chromium ${browser.version()}; load average (1 / 5 / 15 min) at the start: ${load()}`, "");
  try {
    if (o.want("render cost")) await renderCostSection(browser, bundle, o, rows, lines, goals);
    if (o.want("render long answer")) await longAnswerSection(browser, bundle, o, rows, lines, goals);
    lines.push(`load average at the end: ${load()}`);
  } finally {
    await browser.close();
  }
  return { rows, printout: lines.join("\n"), goals };
}

async function renderCostSection(
  browser: Browser,
  bundle: string,
  o: RenderBenchOptions,
  rows: ResultRow[],
  lines: string[],
  goals: GoalCheck[],
): Promise<void> {
  // 10 MB takes minutes per repetition on a busy 2-core machine: the full run repeats the smaller sizes only.
  const repsOf = (chars: number) => (o.quick || chars > 1024 * 1024 ? 1 : 3);
  const deltaChars = 4;
  const deltasPerSync = 16;
  const p = await openRenderPage(browser, bundle);
  try {
    // Warm-up: JIT, and every highlight.js language of the sample loaded.
    for (let i = 0; i < 2; i++) await p.renderCost({ chars: 256 * 1024, deltaChars, deltasPerSync, layout: true });
    lines.push(
      `Render cost: createMarkdownView in Chromium, the sample answer in deltas of ${deltaChars} chars, one sync per ${deltasPerSync} deltas (${deltaChars * deltasPerSync} chars), style + layout forced after each sync (offsetHeight) as a frame would;`,
      `3 runs per size up to 1 MB in the full run, else 1 (range); ratio = per-KB total / the 10 KB one (medians); V8 bytes allocated from the sampling heap profiler (collected objects included), on during the run.`,
      "",
      "| answer | syncs | total µs/KB | of it layout µs/KB | ratio | V8 alloc KB/KB | lexed/char | elements | px/char |",
      "|---|---|---|---|---|---|---|---|---|",
    );
    let base: number | undefined;
    for (const chars of costSizes) {
      const total: number[] = [];
      const layout: number[] = [];
      const alloc: number[] = [];
      let last: RenderCostResult | undefined;
      const reps = repsOf(chars);
      for (let r = 0; r < reps; r++) {
        const bytes = await p.allocated(async () => {
          last = await p.renderCost({ chars, deltaChars, deltasPerSync, layout: true });
        });
        if (!last) throw new Error("render cost: no result");
        total.push((last.ms * 1000) / kb(last.chars));
        layout.push((last.layoutMs * 1000) / kb(last.chars));
        alloc.push(bytes / 1024 / kb(last.chars));
      }
      if (!last) continue;
      const m = median(total);
      base ??= m;
      const ratio = m / base;
      const row: ResultRow = {
        scenario: `render cost · ${sizeName(chars)}`,
        system: "createMarkdownView · Chromium",
        streams: { started: reps, ok: reps, failed: 0 },
        tokens: Math.ceil(last.chars / deltaChars) * reps,
        extra: {
          reps,
          "µs/KB": range(total, 0),
          "layout µs/KB": range(layout, 0),
          ratio: ratio.toFixed(2),
          "alloc KB/KB": range(alloc, 0),
          "lexed/char": (last.lexedChars / last.chars).toFixed(2),
          elements: last.elements,
          "px/char": (last.heightPx / last.chars).toFixed(3),
        },
      };
      rows.push(row);
      lines.push(
        `| ${sizeName(chars)} | ${last.syncs} | ${range(total, 0)} | ${range(layout, 0)} | ${ratio.toFixed(2)} | ${range(alloc, 0)} | ${(last.lexedChars / last.chars).toFixed(2)} | ${last.elements} | ${(last.heightPx / last.chars).toFixed(3)} |`,
      );
      o.log(`render cost · ${sizeName(chars)}: ${JSON.stringify(row.extra)}`);
      if (chars === costSizes.at(-1))
        goals.push({
          goal: "render cost linear: per-KB time (JS + layout) at 10 MB ≤ 2 × at 10 KB",
          measured: `${ratio.toFixed(2)} ×`,
          met: ratio <= 2,
          gap: `${(ratio - 2).toFixed(2)} × over`,
        });
    }
    lines.push("");
  } finally {
    await p.close();
  }
}

/**
 * The long-answer figures: with containment (the library's
 * defaults: containOffscreen on messages, the view's groups) and without.
 */
export const longAnswerDefaults: Omit<LongAnswerOptions, "contain"> = {
  answerChars: 10 * 1024 * 1024,
  messages: 200,
  charsPerSecond: 512 * 1024,
  scrollMs: 3000,
  scrollStepPx: 100,
};

/** One long-answer run and the heap after it (the page's own context, closed after). */
export async function measureLongAnswer(
  browser: Browser,
  bundle: string,
  o: LongAnswerOptions,
): Promise<LongAnswerResult & { heapJs: number; heapDom: number; heapJsEmpty: number; heapDomEmpty: number }> {
  const p = await openRenderPage(browser, bundle);
  try {
    const r = await p.longAnswer(o);
    const h = await p.heap();
    await p.reset();
    const e = await p.heap();
    return { ...r, heapJs: h.js, heapDom: h.dom, heapJsEmpty: e.js, heapDomEmpty: e.dom };
  } finally {
    await p.close();
  }
}

/** Long tasks that start after `afterMs` (ms after the first delta). */
export const longTasksAfter = (r: LongAnswerResult, afterMs: number) => r.longTasks.filter((t) => t.startMs >= afterMs);

/** A one-line summary of a long-answer run. */
export function formatLongAnswer(r: Awaited<ReturnType<typeof measureLongAnswer>>): string {
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const late = longTasksAfter(r, 1000);
  const worstLate = Math.max(0, ...late.map((t) => t.durationMs));
  const worst = Math.max(0, ...r.longTasks.map((t) => t.durationMs));
  return [
    `${sizeName(r.answerChars)} answer in ${(r.streamMs / 1000).toFixed(1)} s (${r.streamFrames} frames, worst ${r.streamWorstFrameMs.toFixed(0)} ms)`,
    `long tasks ${r.longTasks.length} (max ${worst.toFixed(0)} ms; after 1 s: ${late.length}, max ${worstLate.toFixed(0)} ms)`,
    `heap JS ${mb(r.heapJs)} MB + DOM ${mb(r.heapDom)} MB (empty page ${mb(r.heapJsEmpty)} + ${mb(r.heapDomEmpty)} MB)`,
    `scroll fps history ${r.scrollHistory.fps.toFixed(0)} (worst ${r.scrollHistory.worstFrameMs.toFixed(0)} ms), answer ${r.scrollAnswer.fps.toFixed(0)} (worst ${r.scrollAnswer.worstFrameMs.toFixed(0)} ms)`,
    `${r.elements} elements, ${(r.scrollHeightPx / 1e6).toFixed(2)} Mpx tall, storage ${r.storageChars} chars, history ${r.historyMs.toFixed(0)} ms`,
  ].join("; ");
}

async function longAnswerSection(
  browser: Browser,
  bundle: string,
  o: RenderBenchOptions,
  rows: ResultRow[],
  lines: string[],
  goals: GoalCheck[],
): Promise<void> {
  const reps = o.quick ? 1 : 2;
  lines.push(
    `Long answer: ${longAnswerDefaults.messages} messages, the last a ${sizeName(longAnswerDefaults.answerChars)} answer at ${longAnswerDefaults.charsPerSecond / 1024} KB/s (deltas of 4, one sync per frame, kept scrolled to the end);`,
    `scrolling ${longAnswerDefaults.scrollStepPx} px/frame for ${longAnswerDefaults.scrollMs / 1000} s in the history and in the answer; heap after GC (CDP Runtime.getHeapUsage). ${reps} run(s) each.`,
    "",
  );
  let worstLate = 0;
  // Without containment the container's layout grows with the answer and every frame lays it out:
  // 10 MB then takes far longer than the bench can wait (minutes of frames of seconds), so that comparison streams 1 MB.
  const offChars = 1024 * 1024;
  lines.push(`Containment off streams ${sizeName(offChars)} (at 10 MB it runs for many minutes).`, "");
  for (let rep = 0; rep < reps; rep++) {
    for (const contain of [true, false]) {
      const r = await measureLongAnswer(browser, bundle, { ...longAnswerDefaults, contain, ...(contain ? {} : { answerChars: offChars }) });
      const name = contain ? "containment on (default)" : "containment off";
      const line = formatLongAnswer(r);
      lines.push(`- ${name}: ${line}`);
      o.log(`long answer · ${name}: ${line}`);
      const late = Math.max(0, ...longTasksAfter(r, 1000).map((t) => t.durationMs));
      if (contain) worstLate = Math.max(worstLate, late);
      rows.push({
        scenario: `render long answer · ${sizeName(r.answerChars)} · ${r.messages} messages`,
        system: `createMarkdownView · ${name}`,
        streams: { started: 1, ok: 1, failed: 0 },
        tokens: Math.ceil(r.answerChars / 4),
        extra: {
          "stream s": (r.streamMs / 1000).toFixed(1),
          "long tasks": r.longTasks.length,
          "max long task ms": Math.max(0, ...r.longTasks.map((t) => t.durationMs)).toFixed(0),
          "max after 1 s ms": late.toFixed(0),
          "heap JS MB": (r.heapJs / 2 ** 20).toFixed(0),
          "heap DOM MB": (r.heapDom / 2 ** 20).toFixed(0),
          "scroll fps history": r.scrollHistory.fps.toFixed(0),
          "scroll fps answer": r.scrollAnswer.fps.toFixed(0),
          "storage chars": r.storageChars,
        },
      });
    }
  }
  lines.push("");
  goals.push({
    goal: "10 MB answer: no long task above 200 ms after the first second (containment on)",
    measured: `${worstLate.toFixed(0)} ms`,
    met: worstLate <= 200,
    gap: `${(worstLate - 200).toFixed(0)} ms over`,
  });
}

/** The scenarios of this section, as `--only` prefixes select them. */
export const renderScenarios = ["render cost", "render long answer"] as const;
