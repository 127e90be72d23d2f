/**
 * A streaming Markdown view: the text of an answer as it grows, rendered as
 * CommonMark + GFM (tables, strikethrough, autolinks, task lists) into a
 * container, in time linear in the answer's length.
 *
 * The parser is marked: well kept (MIT, weekly releases), fast, with a
 * public lexer whose block tokens carry their exact source (`raw`), which
 * is what lets a view render the complete blocks once and re-lex only the
 * open one.
 * @see https://spec.commonmark.org/0.31.2/
 * @see https://github.github.com/gfm/
 * @see https://marked.js.org/using_pro#lexer
 */
import { Marked, type Token, type Tokens } from "marked";
import { chunksSince, type TextChunks } from "../model/text-chunks.js";
import { completeTail, pendingHref } from "./complete-tail.js";
import { containOffscreen } from "./contain-offscreen.js";
import { highlightLoaded, languageOf, loadLanguage } from "./highlight-code.js";
import { createSanitizer } from "./sanitize-html.js";

/** Options of {@link createMarkdownView}. */
export interface MarkdownViewOptions {
  /**
   * Longest open block re-rendered whole on each update, in UTF-16 code
   * units. A block that grows past it (one huge paragraph, list, table or
   * code block) is cut at a line (or word) boundary: the part before is
   * rendered once, and the rest goes on as a block of its own (a code
   * block or table continues as `.md-continued`, with the same language or
   * columns). Bounds the work of one update. @defaultValue 16384
   */
  readonly maxOpenChars?: number | undefined;
  /** Highlight code blocks whose fence names a known language (loaded on first use). @defaultValue true */
  readonly highlight?: boolean | undefined;
  /**
   * Complete blocks are moved into a `div.md-group` once their source adds
   * up to this many UTF-16 code units; each group gets
   * {@link containOffscreen} (`content-visibility: auto`, with a height
   * estimated from its length), so the finished parts of a long answer cost
   * no layout or paint while they are off screen, and the container holds
   * a few groups rather than every block of the answer. A text shorter
   * than this has no group. 0 or less: never group. @defaultValue 16384
   */
  readonly groupChars?: number | undefined;
  /**
   * Most new text one update takes in, in UTF-16 code units: when more
   * arrives at once (a fast stream, a replay after a reload), the rest waits
   * and the view goes on by itself on the next animation frames of its
   * window (`requestAnimationFrame`, else a 16 ms timer). Within this cap an
   * update takes in about as much as it rendered in `updateBudgetMs` the
   * time before (at least 1 KiB), so a slow or busy device takes smaller
   * shares and frames stay short. `end()` still renders everything at once.
   * `Infinity`: no cap. @defaultValue 8192
   */
  readonly maxCharsPerUpdate?: number | undefined;
  /** The time an update aims at when text is waiting, in milliseconds (see `maxCharsPerUpdate`). @defaultValue 4 */
  readonly updateBudgetMs?: number | undefined;
  /**
   * A group (see `groupChars`) more than `unloadMarginPx` off screen gives
   * up its nodes: it keeps its height and the HTML strings it was rendered
   * from (marked's output, before sanitising), and is rendered again —
   * sanitised and decorated the same way — when it comes within the margin
   * (IntersectionObserver, root and scroll margins). The DOM of a long
   * answer then costs memory for what is near the viewport only (the
   * strings are about 1.5 times the Markdown source); find-in-page does not
   * see unloaded groups. Without IntersectionObserver (jsdom) nothing is
   * unloaded. 0 or less: never unload. @defaultValue 2000
   */
  readonly unloadMarginPx?: number | undefined;
}

/** What a view has done so far (for measurements). */
export interface MarkdownViewStats {
  /** Characters of source handed to the lexer, in total: stays within a small multiple of the text's length (linear work). */
  readonly lexedChars: number;
  /** Characters of source rendered for good (complete blocks). */
  readonly committedChars: number;
  /** Characters of the open block (re-rendered on each update). */
  readonly openChars: number;
  /** Characters received but not yet shown (see {@link MarkdownViewOptions.maxCharsPerUpdate}); 0 when the view is up to date. */
  readonly pendingChars: number;
}

/** A container showing a growing Markdown text; see {@link createMarkdownView}. */
export interface MarkdownView {
  /** Appends `text` to the source and brings the container up to date. */
  append(text: string): void;
  /**
   * Brings the view up to date with `text` (the message model's chunks):
   * appends only the fragments it has not shown; starts over when `text`
   * is not a continuation of what it showed.
   */
  sync(text: TextChunks): void;
  /**
   * The text is complete: renders what is pending and the open block from
   * its exact source, as a complete block, at once (wait for
   * `stats.pendingChars` to reach 0 first to keep that short after a burst).
   */
  end(): void;
  /** Empties the container and forgets the source. */
  clear(): void;
  readonly stats: MarkdownViewStats;
}

const tailHighlightMaxChars = 8 * 1024;

/**
 * Rendered height per character of Markdown source, in CSS pixels, for a
 * group's placeholder height before it was ever rendered: measured in
 * Chromium on the bench's sample answer in a 760 px column at 16 px
 * (bench/src/render.ts prints it); a guess for other widths and styles
 * that lasts only until the group is first rendered.
 */
const pxPerChar = 0.3;

/**
 * Renders a growing Markdown text into `container` (which the view owns:
 * it appends and removes children).
 *
 * Each update lexes only the source after the last complete block: every
 * block but the last is complete (the block after it has started), is
 * rendered once and never parsed again; the last, open block is rendered
 * again on each update, through {@link completeTail} so that unterminated
 * constructs (an open code fence, half a table, `**bold` without its end,
 * a half-written link) render as they will look once closed. Link
 * reference definitions apply to the blocks after them (a definition that
 * comes later than its use does not reach back into complete blocks).
 *
 * Safe by construction: every HTML string the parser or the highlighter
 * produces goes through {@link createSanitizer} (DOMPurify) before it is a
 * node; raw HTML in the text is sanitised the same way. Images are shown as
 * links (nothing is fetched by itself).
 *
 * Code blocks get a copy button (`button.md-copy`, copies the code's text)
 * and, when the fence names a known language, highlight.js highlighting,
 * loaded lazily on first use (the open block is highlighted too while it
 * is under 8 KiB).
 *
 * Long answers: complete blocks are gathered into groups of about 16 KiB
 * of source with `content-visibility: auto` ({@link containOffscreen}),
 * groups far off screen give up their nodes until they come back
 * (`unloadMarginPx`), and one update takes in only a frame's share of a
 * burst (`maxCharsPerUpdate`, `updateBudgetMs`), going on by itself on the
 * next frames. The cost in Chromium, per KB and for a 10 MB answer, is in
 * docs/rendering.md (`npm run bench -- --only=render`).
 *
 * Throws an Error when the container's window has no DOM DOMPurify can use.
 *
 * @example
 * ```ts
 * const view = createMarkdownView(document.querySelector("#answer")!);
 * for await (const piece of tokens) view.append(piece); // or view.sync(block) per frame
 * view.end();
 * ```
 */
export function createMarkdownView(container: HTMLElement, o: MarkdownViewOptions = {}): MarkdownView {
  const win = container.ownerDocument.defaultView;
  if (!win) throw new Error("createMarkdownView: the container's document has no window");
  const sanitize = createSanitizer(win);
  const maxOpen = o.maxOpenChars ?? 16 * 1024;
  const highlight = o.highlight ?? true;
  const groupChars = o.groupChars ?? 16 * 1024;
  const perUpdate = Math.max(1, o.maxCharsPerUpdate ?? 8 * 1024);
  const budgetMs = o.updateBudgetMs ?? 4;
  /** Characters rendered per millisecond lately (a moving average), for the share of the next update. */
  let charsPerMs = 512;
  /** True while the open block is rendered (it is highlighted only while it is short). */
  let renderingOpen = false;
  /**
   * A fenced block of a loaded language is highlighted in the HTML string, so the block passes the
   * sanitiser once; otherwise (false) marked renders it plain and decorate() highlights it once loaded.
   */
  const code = ({ text, lang }: Tokens.Code): string | false => {
    const word = /^\S*/.exec(lang ?? "")?.[0] ?? "";
    const language = highlight ? languageOf(word) : undefined;
    const body = text === "" ? "" : `${text.replace(/\n$/, "")}\n`;
    if (!language || (renderingOpen && body.length > tailHighlightMaxChars)) return false;
    const html = highlightLoaded(language, body);
    return html === undefined ? false : `<pre><code class="hljs language-${escapeHtml(word)}">${html}</code></pre>\n`;
  };
  const md = new Marked({ gfm: true, renderer: { image: imageAsLink, code } });

  /** Source after the last complete block (without `carry`). */
  let tail = "";
  /** The header a cut code block or table goes on with (its fence line, or its header and delimiter rows). */
  let carry: { prefix: string; kind: "code" | "table" } | undefined;
  let links: Record<string, { href: string | null; title: string | null }> = Object.create(null);
  let tailNodes: ChildNode[] = [];
  let pendingCr = false;
  /** Text received and not yet taken into `tail`: pieces from `pending[pendingHead]` on, `pendingChars` in all. */
  let pending: string[] = [];
  let pendingHead = 0;
  let pendingChars = 0;
  let scheduled = false;
  let synced: { chunks: readonly string[]; count: number } | undefined;
  let lexedChars = 0;
  let committedChars = 0;
  /** Nodes of complete blocks not yet in a group, the HTML they came from (per commit), and the length of their source. */
  let loose: ChildNode[] = [];
  let looseHtml: Rendered[] = [];
  let looseChars = 0;
  /** What each group was rendered from, and whether its nodes are unloaded. */
  const groups = new WeakMap<Element, { readonly html: readonly Rendered[]; unloaded: boolean }>();
  const unloadMargin = o.unloadMarginPx ?? 2000;
  const Observer =
    unloadMargin > 0 ? (win as Window & { IntersectionObserver?: typeof IntersectionObserver }).IntersectionObserver : undefined;
  const observer = Observer
    ? new Observer(onGroups, { rootMargin: `${unloadMargin}px 0px`, scrollMargin: `${unloadMargin}px 0px` } as IntersectionObserverInit)
    : undefined;

  container.addEventListener("click", onCopy);

  function lex(src: string): Token[] {
    lexedChars += src.length;
    const lexer = new md.Lexer(md.defaults);
    Object.assign(lexer.tokens.links, links);
    return lexer.lex(src);
  }

  function render(final: boolean): void {
    for (let guard = 0; guard < 1000; guard++) {
      const prefix = carry?.prefix ?? "";
      const src = prefix + tail;
      const tokens = lex(src);
      let open = tokens.length;
      if (!final) {
        let k = tokens.length - 1;
        while (k > 0 && tokens[k]?.type === "space") k--;
        open = Math.max(k, 0);
        // The raws must add up to the source, or a cut would lose text: then commit nothing.
        if (tokens.reduce((n, t) => n + t.raw.length, 0) !== src.length) open = 0;
      }
      let used = 0;
      for (let i = 0; i < open; i++) used += (tokens[i] as Token).raw.length;
      if (open > 0) {
        commit(tokens.slice(0, open), carry?.kind, used - prefix.length);
        for (const t of tokens.slice(0, open)) if (t.type === "def") links[t.tag] ??= { href: t.href, title: t.title };
        tail = src.slice(used);
        carry = undefined;
      }
      removeTail();
      if (final) {
        tail = "";
        carry = undefined;
        return;
      }
      const openToken = tokens[open];
      const openSrc = src.slice(used);
      if (openToken && openSrc.length > maxOpen && cut(openToken, openSrc)) continue;
      const shown = completeTail(openSrc, openToken?.type ?? "space");
      const shownTokens = shown === openSrc ? tokens.slice(open) : lex(shown);
      renderingOpen = true;
      try {
        tailNodes = insert(md.parser(shownTokens), carry?.kind, true);
      } finally {
        renderingOpen = false;
      }
      return;
    }
  }

  /**
   * Cuts the open block `src` (token `t`) after its last complete line (or
   * word), renders the part before as complete and keeps the rest as the
   * open block. False when there is no boundary to cut at.
   */
  function cut(t: Token, src: string): boolean {
    const fence = t.type === "code" && /^ {0,3}(`{3,}|~{3,})/.test(src);
    const headerLines = fence ? 1 : t.type === "table" ? 2 : 0;
    let header = "";
    let from = 0;
    for (let i = 0; i < headerLines; i++) from = src.indexOf("\n", from) + 1;
    if (headerLines > 0) header = src.slice(0, from);
    let at: number;
    if (t.type === "list" && (t as Tokens.List).items.length > 1) {
      at = src.lastIndexOf((t as Tokens.List).items.at(-1)?.raw ?? "\u0000");
    } else {
      at = src.lastIndexOf("\n", src.length - 2) + 1;
      if (at <= from && headerLines === 0) at = src.lastIndexOf(" ", src.length - 2) + 1;
    }
    if (at <= from || at >= src.length) return false;
    const before = src.slice(0, at);
    commit(lex(before), carry?.kind, before.length - (carry?.prefix.length ?? 0));
    const kind = fence ? "code" : t.type === "table" ? "table" : undefined;
    tail = src.slice(at);
    carry = kind && header !== "" ? { prefix: header, kind } : undefined;
    return true;
  }

  /** Renders complete blocks (`chars` characters of the text) for good, and groups them once there are enough. */
  function commit(tokens: Token[], continued: "code" | "table" | undefined, chars: number): void {
    const html = md.parser(tokens);
    removeTail();
    for (const n of insert(html, continued, false)) loose.push(n);
    if (html !== "") looseHtml.push({ html, continued });
    committedChars += chars;
    looseChars += chars;
    if (groupChars <= 0 || looseChars < groupChars || loose.length === 0) return;
    const group = containOffscreen(container.ownerDocument.createElement("div"), { estimatedHeightPx: looseChars * pxPerChar });
    group.className = "md-group";
    loose[0]?.before(group);
    for (const n of loose) group.append(n);
    groups.set(group, { html: looseHtml, unloaded: false });
    observer?.observe(group);
    loose = [];
    looseHtml = [];
    looseChars = 0;
  }

  /** Unloads the groups that left the margin (keeping their height), renders again those that came back. */
  function onGroups(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const g = e.target as HTMLElement;
      const state = groups.get(g);
      if (!state || !g.isConnected) continue;
      if (e.isIntersecting && state.unloaded) {
        state.unloaded = false;
        for (const r of state.html) {
          const frag = sanitize(r.html);
          decorate(frag, r.continued, false);
          g.append(frag);
        }
        g.style.removeProperty("height");
      } else if (!e.isIntersecting && !state.unloaded && e.boundingClientRect.height > 0) {
        state.unloaded = true;
        g.style.setProperty("height", `${e.boundingClientRect.height}px`);
        g.replaceChildren();
      }
    }
  }

  function insert(html: string, continued: "code" | "table" | undefined, open: boolean): ChildNode[] {
    if (html === "") return [];
    const frag = sanitize(html);
    decorate(frag, continued, open);
    const nodes = [...frag.childNodes];
    container.append(frag);
    return nodes;
  }

  function removeTail(): void {
    for (const n of tailNodes) n.remove();
    tailNodes = [];
  }

  function decorate(frag: DocumentFragment, continued: "code" | "table" | undefined, open: boolean): void {
    for (const a of frag.querySelectorAll(`a[href="${pendingHref}"]`)) {
      a.removeAttribute("href");
      a.removeAttribute("target");
      a.removeAttribute("rel");
      a.className = "md-pending";
    }
    const first = frag.firstElementChild;
    if (continued === "table" && first?.tagName === "TABLE") {
      first.querySelector("thead")?.remove();
      first.classList.add("md-continued");
    }
    for (const pre of frag.querySelectorAll("pre")) {
      const code = pre.querySelector("code");
      if (!code) continue;
      const box = container.ownerDocument.createElement("div");
      box.className = continued === "code" && pre === first ? "md-code md-continued" : "md-code";
      const copy = container.ownerDocument.createElement("button");
      copy.type = "button";
      copy.className = "md-copy";
      copy.textContent = "Copy";
      pre.replaceWith(box);
      box.append(copy, pre);
      const language = languageOf(/(?:^|\s)language-(\S+)/.exec(code.className)?.[1] ?? "");
      if (!highlight || !language) continue;
      box.dataset["language"] = language;
      if (code.classList.contains("hljs") || (open && (code.textContent ?? "").length > tailHighlightMaxChars)) continue;
      if (!paint(code, language)) void loadLanguage(language).then(() => code.isConnected && paint(code, language), noop);
    }
  }

  function paint(code: Element, language: string): boolean {
    const html = highlightLoaded(language, code.textContent ?? "");
    if (html === undefined) return false;
    code.replaceChildren(sanitize(html));
    code.classList.add("hljs");
    return true;
  }

  function append(text: string): void {
    if (text === "") return;
    let t = text;
    if (pendingCr && t.startsWith("\n")) t = t.slice(1);
    pendingCr = t.endsWith("\r");
    t = t.replace(/\r\n?/g, "\n");
    if (t === "") return;
    pending.push(t);
    pendingChars += t.length;
    if (!scheduled) update(); // else the frame already scheduled takes it in
  }

  /** Moves up to `max` pending characters into `tail` (never splitting a surrogate pair). */
  function take(max: number): void {
    let budget = max;
    let taken = "";
    while (budget > 0 && pendingHead < pending.length) {
      const piece = pending[pendingHead] as string;
      if (piece.length <= budget) {
        taken += piece;
        budget -= piece.length;
        pendingHead++;
        continue;
      }
      let n = budget;
      const c = piece.charCodeAt(n - 1);
      if (c >= 0xd800 && c <= 0xdbff) n++;
      taken += piece.slice(0, n);
      pending[pendingHead] = piece.slice(n);
      budget = 0;
    }
    if (pendingHead === pending.length) {
      pending = [];
      pendingHead = 0;
    } else if (pendingHead > 1024) {
      pending = pending.slice(pendingHead);
      pendingHead = 0;
    }
    pendingChars -= taken.length;
    tail += taken;
  }

  /** Takes in the next pending text (up to the per-update limit) and renders; goes on next frame if some is left. */
  function update(): void {
    if (pendingChars === 0) return;
    const share = Math.min(perUpdate, Math.max(1024, Math.round(charsPerMs * budgetMs)));
    const n = Math.min(share, pendingChars);
    const t0 = performance.now();
    take(share);
    render(false);
    const ms = performance.now() - t0;
    // Only updates that had to choose (text was waiting) teach the rate; a small update says little.
    if (n >= 1024) charsPerMs = (charsPerMs + n / Math.max(ms, 0.1)) / 2;
    if (pendingChars > 0 && !scheduled) {
      scheduled = true;
      const next = () => {
        scheduled = false;
        update();
      };
      if (win?.requestAnimationFrame) win.requestAnimationFrame(next);
      else setTimeout(next, 16);
    }
  }

  function clear(): void {
    tail = "";
    carry = undefined;
    links = Object.create(null);
    tailNodes = [];
    pendingCr = false;
    pending = [];
    pendingHead = 0;
    pendingChars = 0;
    synced = undefined;
    committedChars = 0;
    loose = [];
    looseHtml = [];
    looseChars = 0;
    observer?.disconnect();
    container.replaceChildren();
  }

  return {
    append,
    sync(text) {
      const same = synced !== undefined && (synced.chunks === text.chunks || synced.count === 0) && text.count >= synced.count;
      if (!same) clear();
      const pieces = chunksSince(text, same ? (synced?.count ?? 0) : 0);
      synced = { chunks: text.chunks, count: text.count };
      if (pieces.length > 0) append(pieces.join(""));
    },
    end() {
      take(Number.POSITIVE_INFINITY);
      render(true);
    },
    clear,
    get stats() {
      return { lexedChars, committedChars, openChars: tail.length, pendingChars };
    },
  };
}

/** The HTML (marked's output, before sanitising) of one commit, and how its first block continues a cut one. */
interface Rendered {
  readonly html: string;
  readonly continued: "code" | "table" | undefined;
}

function onCopy(e: Event): void {
  const button = (e.target as Element | null)?.closest?.("button.md-copy");
  const code = button?.parentElement?.querySelector("pre code");
  if (!button || !code) return;
  const clipboard = (globalThis as { navigator?: { clipboard?: { writeText(t: string): Promise<void> } } }).navigator?.clipboard;
  if (!clipboard) return;
  clipboard.writeText(code.textContent ?? "").then(
    () => {
      button.textContent = "Copied";
      setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    },
    () => {
      button.textContent = "Copy failed";
    },
  );
}

/** Images become links to the image (with its alt text): a page showing model output fetches nothing by itself. */
function imageAsLink({ href, text }: Tokens.Image): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function noop(): void {}
