/**
 * Cuts a stream of text tokens right before the earliest occurrence of any
 * stop sequence in their concatenated text, as a model stops generating:
 * the tokens before it pass unchanged, the one it starts in is cut to the
 * text before it (and dropped when that is empty), nothing after follows.
 * Without an occurrence, every token passes.
 *
 * Streaming: each token is read once, and a token is held back only while
 * the text from some position in it to the end of what was read is a
 * proper prefix of a stop sequence (a partial match that the next tokens
 * may complete), or while a longer stop sequence that starts earlier than a
 * complete match may still complete. So the tokens held are bounded by the
 * longest stop sequence plus one token, whatever the length of the stream.
 * Matching is a Knuth–Morris–Pratt automaton per stop sequence, in UTF-16
 * code units (as `String.prototype.indexOf` counts): O(1) amortised work per
 * character and sequence.
 *
 * An empty stop sequence matches at the start: nothing passes.
 *
 * @param tokens - the text, in tokens; pulled lazily.
 * @param stops - the stop sequences (the contract allows at most 4 of at most 256 characters).
 */
export function* cutAtStopSequence(tokens: Iterable<string>, stops: readonly string[]): Generator<string, void, undefined> {
  if (stops.length === 0) {
    yield* tokens;
    return;
  }
  if (stops.some((s) => s === "")) return;
  const matchers = stops.map(createMatcher);
  /** Tokens read but not yet passed on, and where the first of them starts in the text. */
  const held: string[] = [];
  let heldStart = 0;
  /** Characters read so far. */
  let read = 0;
  /** Start of the earliest complete match found so far. */
  let match = Number.POSITIVE_INFINITY;

  /** Passes on the held tokens that end at or before `end`, and a cut piece of the one `end` falls in when `cut`. */
  function* release(end: number, cut: boolean): Generator<string, void, undefined> {
    while (held.length > 0) {
      const t = held[0] as string;
      if (heldStart + t.length > end) {
        if (cut && end > heldStart) yield t.slice(0, end - heldStart);
        return;
      }
      held.shift();
      heldStart += t.length;
      yield t;
    }
  }

  for (const t of tokens) {
    held.push(t);
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      read++;
      for (const m of matchers) {
        if (m.matchedAt === undefined && m.step(c) === m.stop.length) {
          m.matchedAt = read - m.stop.length;
          match = Math.min(match, m.matchedAt);
        }
      }
    }
    // The earliest position where a stop sequence may still begin: the start
    // of the longest partial match at the end of the text.
    let partial = read;
    for (const m of matchers) if (m.matchedAt === undefined) partial = Math.min(partial, read - m.state);
    if (match <= partial) {
      yield* release(match, true);
      return;
    }
    yield* release(Math.min(partial, match), false);
  }
  yield* release(match, true);
}

interface Matcher {
  readonly stop: string;
  /** Length of the longest prefix of `stop` that ends the text read so far. */
  state: number;
  /** Start of `stop`'s first occurrence, once found. */
  matchedAt: number | undefined;
  /** Reads one UTF-16 code unit; returns the new state. */
  step(c: number): number;
}

/** A KMP automaton for `stop` (non-empty). */
function createMatcher(stop: string): Matcher {
  // fail[i]: length of the longest proper prefix of stop[0..i] that is also its suffix.
  const fail = new Array<number>(stop.length).fill(0);
  for (let i = 1, k = 0; i < stop.length; i++) {
    while (k > 0 && stop.charCodeAt(i) !== stop.charCodeAt(k)) k = fail[k - 1] as number;
    if (stop.charCodeAt(i) === stop.charCodeAt(k)) k++;
    fail[i] = k;
  }
  const m: Matcher = {
    stop,
    state: 0,
    matchedAt: undefined,
    step(c) {
      let k = m.state;
      while (k > 0 && c !== stop.charCodeAt(k)) k = fail[k - 1] as number;
      if (c === stop.charCodeAt(k)) k++;
      m.state = k;
      return k;
    },
  };
  return m;
}
