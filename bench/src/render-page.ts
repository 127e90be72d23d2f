/**
 * The page of the rendering bench (bench/src/render.ts bundles it with
 * esbuild and runs it in Chromium): the streaming Markdown view of
 * `@airwave/web/render` fed by the message model's text chunks, exposed
 * as `window.renderBench`.
 * @module
 */
import { appendText, emptyText, type TextChunks } from "@airwave/web";
import { containOffscreen, createMarkdownView } from "@airwave/web/render";
import { markdownSample } from "./markdown-sample.ts";

/** One run of {@link renderCost}. */
export interface RenderCostOptions {
  /** Length of the answer, in UTF-16 code units. */
  readonly chars: number;
  /** Characters per delta (a token). */
  readonly deltaChars: number;
  /** Deltas per `sync` (one frame's batch). */
  readonly deltasPerSync: number;
  /** Also force style and layout after each sync (`offsetHeight`), as a frame would. */
  readonly layout: boolean;
  /** `groupChars` of the view (0: no groups). */
  readonly groupChars?: number | undefined;
}

/** What {@link renderCost} measured. */
export interface RenderCostResult {
  readonly chars: number;
  /** Wall time of the appends, syncs, forced layouts and `end()`, in milliseconds (`performance.now`). */
  readonly ms: number;
  /** The part of `ms` spent in the forced layouts. */
  readonly layoutMs: number;
  readonly syncs: number;
  /** Characters the lexer saw, in total (`stats.lexedChars`). */
  readonly lexedChars: number;
  /** Elements in the container at the end. */
  readonly elements: number;
  /** The container's rendered height at the end, in CSS pixels (for the view's height estimate). */
  readonly heightPx: number;
}

/**
 * Streams a {@link markdownSample} of `chars` into a new view in deltas of
 * `deltaChars`, syncing the view every `deltasPerSync` deltas, then ends it.
 * Every 64 KiB it scrolls to the end and waits for an animation frame, as a
 * stream would let the browser render (IntersectionObserver and the view's
 * unloading run then); the clock counts the appends, syncs, forced layouts
 * and `end()`, not those waits. The text is generated before the clock starts.
 */
async function renderCost(o: RenderCostOptions): Promise<RenderCostResult> {
  const text = markdownSample(o.chars);
  const box = document.createElement("div");
  box.className = "answer";
  document.body.append(box);
  const view = createMarkdownView(box, { groupChars: o.groupChars });
  let t: TextChunks = emptyText;
  let syncs = 0;
  let k = 0;
  let layoutMs = 0;
  const layout = () => {
    if (!o.layout) return;
    const l0 = performance.now();
    void box.offsetHeight;
    layoutMs += performance.now() - l0;
  };
  let ms = 0;
  let t0 = performance.now();
  for (let i = 0; i < text.length; i += o.deltaChars) {
    t = appendText(t, text.slice(i, i + o.deltaChars));
    if (++k === o.deltasPerSync) {
      k = 0;
      view.sync(t);
      syncs++;
      layout();
    }
    if (i % 65536 === 0 && i > 0) {
      ms += performance.now() - t0;
      window.scrollTo(0, document.documentElement.scrollHeight);
      await frame();
      t0 = performance.now();
    }
  }
  view.sync(t);
  view.end();
  layout();
  ms += performance.now() - t0;
  const heightPx = box.getBoundingClientRect().height;
  const r = {
    chars: text.length,
    ms,
    layoutMs,
    syncs: syncs + 1,
    lexedChars: view.stats.lexedChars,
    elements: box.getElementsByTagName("*").length,
    heightPx,
  };
  box.remove();
  return r;
}

/** Options of {@link longAnswer}. */
export interface LongAnswerOptions {
  /** Length of the streamed answer, in UTF-16 code units. */
  readonly answerChars: number;
  /** Messages in the conversation, the streamed answer included (the others alternate: a short question, an answer of 1–6 KB). */
  readonly messages: number;
  /** How fast the answer arrives, in UTF-16 code units per second (deltas of 4; one sync per animation frame). */
  readonly charsPerSecond: number;
  /** Containment on: {@link containOffscreen} on each message and the view's offscreen groups; off: neither. */
  readonly contain: boolean;
  /** How long each scroll measurement lasts, in milliseconds. */
  readonly scrollMs: number;
  /** How far each frame scrolls, in CSS pixels. */
  readonly scrollStepPx: number;
}

/** What {@link longAnswer} measured. Times in milliseconds. */
export interface LongAnswerResult {
  readonly answerChars: number;
  readonly messages: number;
  /** Time to render the earlier messages (before the stream starts). */
  readonly historyMs: number;
  /** From the first delta to `end()`. */
  readonly streamMs: number;
  /** Animation frames during the stream, and the longest gap between two. */
  readonly streamFrames: number;
  readonly streamWorstFrameMs: number;
  /** Long tasks (> 50 ms, PerformanceObserver "longtask") from the first delta on: start (ms after the first delta) and duration. */
  readonly longTasks: readonly { readonly startMs: number; readonly durationMs: number }[];
  /**
   * The 5 longest animation frames from the first delta on (PerformanceObserver "long-animation-frame"):
   * their script time, and the time from the start of rendering (style + layout + paint) and of style + layout to their end.
   */
  readonly worstFrames: readonly {
    readonly startMs: number;
    readonly durationMs: number;
    readonly scriptMs: number;
    readonly renderMs: number;
    readonly layoutMs: number;
    readonly blockingMs: number;
  }[];
  /** Frames per second while scrolling the earlier messages (from the top), and the longest frame. */
  readonly scrollHistory: { readonly fps: number; readonly worstFrameMs: number };
  /** Frames per second while scrolling the middle of the streamed answer, and the longest frame. */
  readonly scrollAnswer: { readonly fps: number; readonly worstFrameMs: number };
  /** Characters of the answer the view rendered for good (`stats.committedChars` after `end()`): the whole answer. */
  readonly committedChars: number;
  readonly elements: number;
  readonly scrollHeightPx: number;
  /** UTF-16 code units in sessionStorage at the end (the resume checkpoint's size). */
  readonly storageChars: number;
}

const frame = () => new Promise<number>((r) => requestAnimationFrame(r));

/** Counts animation frames while scrolling `list` by `step` px per frame for `ms`. */
async function scrollFps(list: HTMLElement, from: number, step: number, ms: number): Promise<{ fps: number; worstFrameMs: number }> {
  list.scrollTop = from;
  let last = await frame();
  const first = last;
  let frames = 0;
  let worst = 0;
  while (last - first < ms) {
    list.scrollTop += step;
    const now = await frame();
    worst = Math.max(worst, now - last);
    last = now;
    frames++;
  }
  return { fps: (frames * 1000) / (last - first), worstFrameMs: worst };
}

/**
 * A conversation of `messages` in a scrolling list, the last one an answer
 * of `answerChars` streamed at `charsPerSecond` through the message model
 * (appendText) into a Markdown view, synced once per animation frame, the
 * list kept scrolled to its end while it streams; the resume checkpoint
 * (stream id + cursor, as createPageStreams saves it) written per frame.
 * Then scrolling is measured in the history and in the answer.
 */
async function longAnswer(o: LongAnswerOptions): Promise<LongAnswerResult> {
  document.body.replaceChildren();
  const list = document.createElement("div");
  list.className = "list";
  document.body.append(list);
  const addMessage = (role: string, estimate: number) => {
    const m = document.createElement("div");
    m.className = `message ${role}`;
    if (o.contain) containOffscreen(m, { estimatedHeightPx: estimate });
    list.append(m);
    return m;
  };
  const h0 = performance.now();
  for (let i = 0; i < o.messages - 1; i++) {
    if (i % 2 === 0) {
      addMessage("user", 40).textContent = `Question ${i / 2 + 1}: how does the ${i % 7 === 0 ? "replay log" : "gateway"} work?`;
      continue;
    }
    const text = markdownSample(1024 + ((i * 2654435761) % 5120), i);
    const v = createMarkdownView(addMessage("assistant", text.length * 0.3), { groupChars: o.contain ? undefined : 0 });
    v.append(text);
    v.end();
  }
  const historyMs = performance.now() - h0;
  const answer = markdownSample(o.answerChars, 7);
  const el = addMessage("assistant", 400);
  el.dataset["streaming"] = "true";
  const view = createMarkdownView(el, { groupChars: o.contain ? undefined : 0 });
  await frame();

  const longTasks: { startMs: number; durationMs: number }[] = [];
  let s0 = 0;
  const observer = new PerformanceObserver((l) => {
    for (const e of l.getEntries())
      if (e.startTime + e.duration > s0) longTasks.push({ startMs: e.startTime - s0, durationMs: e.duration });
  });
  observer.observe({ type: "longtask" });
  const loafs: { startMs: number; durationMs: number; scriptMs: number; layoutMs: number; renderMs: number; blockingMs: number }[] = [];
  const loafObserver = new PerformanceObserver((l) => {
    for (const e of l.getEntries() as (PerformanceEntry & {
      renderStart: number;
      styleAndLayoutStart: number;
      blockingDuration: number;
      scripts: { duration: number }[];
    })[]) {
      const end = e.startTime + e.duration;
      loafs.push({
        startMs: e.startTime - s0,
        durationMs: e.duration,
        scriptMs: e.scripts.reduce((n, x) => n + x.duration, 0),
        renderMs: e.renderStart > 0 ? end - e.renderStart : 0,
        layoutMs: e.styleAndLayoutStart > 0 ? end - e.styleAndLayoutStart : 0,
        blockingMs: e.blockingDuration,
      });
    }
  });
  loafObserver.observe({ type: "long-animation-frame" });
  s0 = performance.now();
  let t: TextChunks = emptyText;
  let at = 0;
  let frames = 0;
  let worst = 0;
  let last = s0;
  const streamId = "bench-long-answer";
  while (at < answer.length) {
    const now = await frame();
    worst = Math.max(worst, now - last);
    last = now;
    frames++;
    const until = Math.min(answer.length, Math.ceil(((performance.now() - s0) * o.charsPerSecond) / 1000));
    for (; at < until; at += 4) t = appendText(t, answer.slice(at, at + 4));
    view.sync(t);
    list.scrollTop = list.scrollHeight;
    sessionStorage.setItem("airwave.streams", JSON.stringify([{ streamId, cursor: `e1:${t.count}` }]));
  }
  // A burst bigger than one update's share is still being taken in, a share per frame.
  while (view.stats.pendingChars > 0) {
    const now = await frame();
    worst = Math.max(worst, now - last);
    last = now;
    frames++;
  }
  view.end();
  const streamMs = performance.now() - s0;
  await frame();
  await frame();
  observer.disconnect();
  loafObserver.disconnect();
  delete el.dataset["streaming"];

  const scrollHistory = await scrollFps(list, 0, o.scrollStepPx, o.scrollMs);
  const answerTop = el.offsetTop - list.offsetTop;
  const scrollAnswer = await scrollFps(list, answerTop + el.offsetHeight / 2, o.scrollStepPx, o.scrollMs);
  let storageChars = 0;
  for (let i = 0; i < sessionStorage.length; i++) {
    const k = sessionStorage.key(i) ?? "";
    storageChars += k.length + (sessionStorage.getItem(k)?.length ?? 0);
  }
  // The model's text stays referenced (window.renderBenchText) so that the heap read after this counts it, as an app keeping its messages would.
  (window as unknown as { renderBenchText: TextChunks }).renderBenchText = t;
  return {
    answerChars: answer.length,
    messages: o.messages,
    historyMs,
    streamMs,
    streamFrames: frames,
    streamWorstFrameMs: worst,
    longTasks,
    worstFrames: loafs
      .filter((f) => f.startMs >= 0)
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, 5),
    scrollHistory,
    scrollAnswer,
    committedChars: view.stats.committedChars,
    elements: document.getElementsByTagName("*").length,
    scrollHeightPx: list.scrollHeight,
    storageChars,
  };
}

/** Drops what {@link longAnswer} left (DOM, text), for the heap read after it. */
function reset(): void {
  document.body.replaceChildren();
  (window as unknown as { renderBenchText?: TextChunks }).renderBenchText = undefined;
  sessionStorage.clear();
}

(window as unknown as { renderBench: unknown }).renderBench = { renderCost, longAnswer, reset };
