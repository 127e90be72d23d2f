import { ev, isTerminal, type StreamEvent } from "@airwave/proto";
import { Code } from "@connectrpc/connect";

/**
 * A deterministic provider mapper: upstream chunks of type `C` to airwave.v1
 * events, with its state `S` in an explicit object. No I/O, no clock, no
 * randomness, so the same chunks always give the same events.
 *
 * `map` and `end` never throw for bad upstream data: they return a terminal
 * `failed` event instead. A mapper need not track whether it has ended:
 * {@link mapChunks} (and so {@link adapt}) stops calling it at its first
 * terminal event and drops whatever it returned after that one.
 */
export interface Mapper<C, S> {
  /** Creates the state of one stream. */
  init(): S;
  /** Maps one chunk, updating the state; returns the events it produces (possibly none). */
  map(state: S, chunk: C): StreamEvent[];
  /**
   * Called once when the upstream stream ended without a terminal event;
   * returns the final events, ending with the terminal one (usually
   * `failed` UNAVAILABLE, reason UPSTREAM_TRUNCATED, with the usage so far).
   */
  end(state: S): StreamEvent[];
}

/**
 * One stream through a {@link Mapper}, holding it to "exactly one terminal
 * event, always last": the one place that rule is enforced for provider
 * chunks.
 * - `push` maps a chunk; once a terminal event came out, later events of the
 *   same call and every later chunk are dropped (the mapper is not called).
 * - `end` returns the mapper's final events unless a terminal event came
 *   out already; when the mapper's `end` gives none, `failed` UNAVAILABLE,
 *   reason UPSTREAM_TRUNCATED (retryable) is added.
 */
export interface MappedStream<C> {
  push(chunk: C): StreamEvent[];
  end(): StreamEvent[];
  /** True once the terminal event came out. */
  readonly ended: boolean;
}

/** Starts one stream through `mapper` (see {@link MappedStream}). */
export function mapStream<C, S>(mapper: Mapper<C, S>): MappedStream<C> {
  const state = mapper.init();
  let ended = false;
  const upToTerminal = (events: StreamEvent[]): StreamEvent[] => {
    const i = events.findIndex(isTerminal);
    if (i < 0) return events;
    ended = true;
    return i === events.length - 1 ? events : events.slice(0, i + 1);
  };
  return {
    push: (chunk) => (ended ? [] : upToTerminal(mapper.map(state, chunk))),
    end() {
      if (ended) return [];
      const out = upToTerminal(mapper.end(state));
      if (!ended) {
        ended = true;
        out.push(ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED"));
      }
      return out;
    },
    get ended() {
      return ended;
    },
  };
}

/** Maps whole list of chunks, then ends the stream: {@link mapStream} in one call (tests, recorded bodies). */
export function mapChunks<C, S>(mapper: Mapper<C, S>, chunks: Iterable<C>): StreamEvent[] {
  const run = mapStream(mapper);
  const out: StreamEvent[] = [];
  for (const c of chunks) {
    out.push(...run.push(c));
    if (run.ended) return out;
  }
  out.push(...run.end());
  return out;
}

/**
 * Turns a {@link Mapper} into a `TransformStream`: `transform` maps each
 * chunk, `flush` (the upstream ended) emits the mapper's final events, with
 * exactly one terminal event, last ({@link mapStream}). The same stage
 * serves every HTTP provider.
 *
 * @see https://github.com/vercel/ai/blob/main/packages/openai/src/chat/openai-chat-language-model.ts (start/transform/flush)
 */
export function adapt<C, S>(mapper: Mapper<C, S>): TransformStream<C, StreamEvent> {
  const run = mapStream(mapper);
  return new TransformStream<C, StreamEvent>({
    transform(chunk, out) {
      for (const e of run.push(chunk)) out.enqueue(e);
    },
    flush(out) {
      for (const e of run.end()) out.enqueue(e);
    },
  });
}
