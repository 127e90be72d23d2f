import type { StreamEvent } from "@airwave/proto";

/**
 * A deterministic provider mapper: upstream chunks of type `C` to airwave.v1
 * events, with its state `S` in an explicit object. No I/O, no clock, no
 * randomness, so the same chunks always give the same events.
 *
 * `map` and `end` never throw for bad upstream data: they return a terminal
 * `failed` event instead.
 */
export interface Mapper<C, S> {
  /** Creates the state of one stream. */
  init(): S;
  /** Maps one chunk, updating the state; returns the events it produces (possibly none). */
  map(state: S, chunk: C): StreamEvent[];
  /** Called once when the upstream stream ended; returns the final events (the terminal one, unless already emitted). */
  end(state: S): StreamEvent[];
}

/**
 * Turns a {@link Mapper} into a `TransformStream`: `transform` maps each
 * chunk, `flush` (the upstream ended) emits the mapper's final events. The
 * same stage serves every provider.
 *
 * @see https://github.com/vercel/ai/blob/main/packages/openai/src/chat/openai-chat-language-model.ts (start/transform/flush)
 */
export function adapt<C, S>(mapper: Mapper<C, S>): TransformStream<C, StreamEvent> {
  const state = mapper.init();
  return new TransformStream<C, StreamEvent>({
    transform(chunk, out) {
      for (const e of mapper.map(state, chunk)) out.enqueue(e);
    },
    flush(out) {
      for (const e of mapper.end(state)) out.enqueue(e);
    },
  });
}
