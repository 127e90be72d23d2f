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
}

/** What a view has done so far (for measurements). */
export interface MarkdownViewStats {
  /** Characters of source handed to the lexer, in total: stays within a small multiple of the text's length (linear work). */
  readonly lexedChars: number;
  /** Characters of source rendered for good (complete blocks). */
  readonly committedChars: number;
  /** Characters of the open block (re-rendered on each update). */
  readonly openChars: number;
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
  /** The text is complete: renders the open block from its exact source, as a complete block. */
  end(): void;
  /** Empties the container and forgets the source. */
  clear(): void;
  readonly stats: MarkdownViewStats;
}

const tailHighlightMaxChars = 8 * 1024;

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
  const md = new Marked({ gfm: true, renderer: { image: imageAsLink } });

  /** Source after the last complete block (without `carry`). */
  let tail = "";
  /** The header a cut code block or table goes on with (its fence line, or its header and delimiter rows). */
  let carry: { prefix: string; kind: "code" | "table" } | undefined;
  let links: Record<string, { href: string | null; title: string | null }> = Object.create(null);
  let tailNodes: ChildNode[] = [];
  let pendingCr = false;
  let synced: { chunks: readonly string[]; count: number } | undefined;
  let lexedChars = 0;
  let committedChars = 0;

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
        commit(tokens.slice(0, open), carry?.kind);
        for (const t of tokens.slice(0, open)) if (t.type === "def") links[t.tag] ??= { href: t.href, title: t.title };
        committedChars += used - prefix.length;
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
      tailNodes = insert(md.parser(shownTokens), carry?.kind, true);
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
    commit(lex(before), carry?.kind);
    committedChars += before.length - (carry?.prefix.length ?? 0);
    const kind = fence ? "code" : t.type === "table" ? "table" : undefined;
    tail = src.slice(at);
    carry = kind && header !== "" ? { prefix: header, kind } : undefined;
    return true;
  }

  function commit(tokens: Token[], continued: "code" | "table" | undefined): void {
    const html = md.parser(tokens);
    removeTail();
    insert(html, continued, false);
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
      if (!highlight || !language || (open && (code.textContent ?? "").length > tailHighlightMaxChars)) continue;
      box.dataset["language"] = language;
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
    tail += t.replace(/\r\n?/g, "\n");
    render(false);
  }

  function clear(): void {
    tail = "";
    carry = undefined;
    links = Object.create(null);
    tailNodes = [];
    pendingCr = false;
    synced = undefined;
    committedChars = 0;
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
    end: () => render(true),
    clear,
    get stats() {
      return { lexedChars, committedChars, openChars: tail.length };
    },
  };
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
