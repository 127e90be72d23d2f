/**
 * What the open (last, still growing) block of a Markdown text shows while
 * it streams: its source with the inline constructs the model has opened
 * but not yet closed closed for it, so `**bold` already shows bold and does
 * not jump from literal asterisks to bold when `**` arrives. Only the open
 * block is ever completed; a block is rendered from its exact source once it
 * is complete, and the stream's last render uses the exact source too.
 */

/** Placeholder `href` of a link whose URL is still streaming; the renderer shows such a link without a target. */
export const pendingHref = "#airwave-pending-link";

/**
 * Completes the open block `src` (one block's Markdown source, not a whole
 * document) for display:
 * - an unclosed inline code span gets its closing backtick;
 * - unclosed `**`, `__`, `*` and `~~` get their closers (a marker with
 *   nothing after it yet is dropped instead, so `Hello **` shows `Hello`);
 * - a link whose URL is still streaming, `[text](http://exa`, becomes a link
 *   to {@link pendingHref};
 * - a table's header row before its delimiter row, a lone `` ` ``/`` `` ``
 *   line (a fence being typed) show nothing until the next line decides what
 *   they are.
 *
 * Fenced code (`kind` "code") and raw HTML (`kind` "html") are returned
 * as they are: marked already renders an unterminated fence as a code block
 * to the end of the text.
 *
 * Heuristic by design (counts, not a parse): a wrong guess lasts only
 * until the block completes, then the exact source is rendered.
 *
 * @param kind the marked token type of the block ("paragraph", "list", "heading", "table", "blockquote", "code", "html", …)
 */
export function completeTail(src: string, kind: string): string {
  if (kind === "code" || kind === "html" || kind === "space") return src;
  if (kind === "paragraph" && isTableHeaderOnly(src)) return "";
  let s = src.replace(/(^|\n) {0,3}`{1,2}\s*$/, "$1"); // a fence being typed
  // Trailing markers that open nothing yet: drop them.
  s = s.replace(/(?:\s|^)(?:\*{1,3}|_{1,3}|~~|`)$/, "");
  const closers: string[] = [];
  // Inline code: an odd number of backticks leaves one open.
  if ((s.match(/`/g)?.length ?? 0) % 2 === 1) {
    closers.push("`");
  }
  const outsideCode = stripCodeSpans(s);
  const link = /\[([^\]\n]*)\]\(([^)\s]*)$/.exec(outsideCode);
  if (link && closers.length === 0) {
    s = `${s.slice(0, s.length - link[0].length)}[${link[1]}](${pendingHref})`;
  }
  const bare = stripLinks(stripCodeSpans(s)).replace(/^\s{0,3}[*+-]\s/gm, " "); // list bullets are not emphasis
  const count = (re: RegExp) => bare.match(re)?.length ?? 0;
  if (closers.length === 0) {
    if (count(/~~/g) % 2 === 1) closers.push("~~");
    const strong = count(/\*\*/g);
    const single = count(/\*/g) - 2 * strong;
    if (single % 2 === 1) closers.push("*");
    if (strong % 2 === 1) closers.push("**");
    if (count(/(?:^|[^\w_])__|__(?![\w_])/g) % 2 === 1) closers.push("__");
  }
  if (closers.length === 0) return s;
  const trimmed = s.replace(/\s+$/, ""); // a closer after whitespace does not close (CommonMark flanking rules)
  return trimmed + closers.join("");
}

/** True when every line starts with `|` and no delimiter row has arrived yet (one line, or a second line still being typed). */
function isTableHeaderOnly(src: string): boolean {
  const lines = src.replace(/\n+$/, "").split("\n");
  if (!lines.every((l) => /^\s{0,3}\|/.test(l))) return false;
  if (lines.length === 1) return true;
  return lines.length === 2 && /^\s{0,3}\|[\s:|-]*$/.test(lines[1] as string);
}

function stripCodeSpans(s: string): string {
  return s.replace(/`[^`]*`/g, "");
}

function stripLinks(s: string): string {
  return s.replace(/\]\([^)\s]*\)/g, "]");
}
