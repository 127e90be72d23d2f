/**
 * Text that grows by appending, in time linear in its final length.
 *
 * A `TextChunks` value is a prefix view of an append-only array of
 * fragments: it reads only the first `count` entries of `chunks`. Appending
 * to the newest value pushes onto the same array and returns a new view, so
 * successive states share one array and each older state still sees its own
 * prefix. Nothing joins the fragments until {@link textOf} is asked, and it
 * caches per array, so rendering a growing text frame by frame joins each
 * fragment once (the idea of eventsource-parser's fragment buffering, which
 * avoids O(N²) concatenation).
 *
 * @example
 * ```ts
 * let t = emptyText;
 * for (const piece of ["Hel", "lo", "!"]) t = appendText(t, piece);
 * textOf(t);           // "Hello!"
 * t.length;            // 6 (UTF-16 code units)
 * chunksSince(t, 1);   // ["lo", "!"]: what to append to a view that showed 1 chunk
 * ```
 */
export interface TextChunks {
  /**
   * The fragments, in order. Append-only and shared between successive
   * values: only the first `count` entries belong to this value. Never
   * mutate it; read it with {@link textOf} or {@link chunksSince}.
   */
  readonly chunks: readonly string[];
  /** How many entries of `chunks` this value holds. */
  readonly count: number;
  /** Length of the text, in UTF-16 code units (`String.prototype.length`). */
  readonly length: number;
}

/** The empty text. */
export const emptyText: TextChunks = Object.freeze({ chunks: Object.freeze([]) as readonly string[], count: 0, length: 0 });

/**
 * Returns `t` with `piece` appended, in O(1) amortised time: the fragment
 * is pushed onto `t.chunks` when `t` is its newest view. Appending to an
 * older view (a state that was already extended) copies its prefix first,
 * so no value ever changes what it reads. An empty `piece` returns `t`.
 */
export function appendText<T extends TextChunks>(t: T, piece: string): T {
  if (piece === "") return t;
  let chunks = t.chunks as string[];
  if (t.count === 0 || chunks.length !== t.count || Object.isFrozen(chunks)) chunks = chunks.slice(0, t.count);
  chunks.push(piece);
  return { ...t, chunks, count: t.count + 1, length: t.length + piece.length };
}

/**
 * A `TextChunks` holding `text` as one fragment (the empty text when `text`
 * is empty).
 */
export function textChunks(text: string): TextChunks {
  return text === "" ? emptyText : { chunks: [text], count: 1, length: text.length };
}

const cache = new WeakMap<readonly string[], { count: number; text: string }>();

/**
 * The whole text of `t`. Joins lazily and caches per chunk array: asking
 * again after more fragments were appended joins only the new ones, so
 * calling it once per rendered frame costs O(new text) per call, and the
 * reducer itself never joins. Pure: asking an older view returns its own
 * prefix.
 */
export function textOf(t: TextChunks): string {
  if (t.count === 0) return "";
  if (t.count === 1) return t.chunks[0] as string;
  const hit = cache.get(t.chunks);
  if (hit && hit.count === t.count) return hit.text;
  if (hit && hit.count < t.count) {
    const text = hit.text + t.chunks.slice(hit.count, t.count).join("");
    cache.set(t.chunks, { count: t.count, text });
    return text;
  }
  const text = t.chunks.slice(0, t.count).join("");
  if (!hit) cache.set(t.chunks, { count: t.count, text });
  return text;
}

/**
 * The fragments of `t` after the first `from`: what a view that already
 * shows `from` fragments of the same text appends (e.g. with
 * `Text.appendData`). Empty when `from >= t.count`.
 */
export function chunksSince(t: TextChunks, from: number): readonly string[] {
  return from >= t.count ? [] : t.chunks.slice(Math.max(0, from), t.count);
}
