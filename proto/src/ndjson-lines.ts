import { FramingError } from "./framing-error.js";

/**
 * Default bound on one NDJSON line, in characters (UTF-16 code units):
 * 4 MiB, like the SSE event bound of the OpenAI decoder. Ollama's final
 * `/api/generate` line carries the whole `context` token array, which is the
 * longest line we expect (tens of KiB for long conversations).
 */
export const defaultMaxLineChars = 4 * 1024 * 1024;

/** Options of {@link NdjsonLineStream}. */
export interface NdjsonLineStreamOptions {
  /**
   * Maximum characters of one line, without its line terminator. A longer
   * line errors the stream with a {@link FramingError} (whether it arrived in
   * one chunk or many), since nothing after it can be trusted.
   *
   * @defaultValue {@link defaultMaxLineChars}
   */
  readonly maxLineChars?: number | undefined;
}

/**
 * A `TransformStream` from decoded text to the non-blank lines of a
 * newline-delimited JSON (NDJSON / JSON Lines) body, without their
 * terminators. Knows nothing about JSON: parsing is the next stage's job.
 *
 * - Lines end at LF; a CR before the LF (CRLF) is dropped.
 * - A last line without a terminator is emitted when the input ends.
 * - Blank (empty or whitespace-only) lines are skipped.
 * - The output does not depend on how the input is split into chunks: a line
 *   split across chunks is joined, with its fragments kept in a list (no
 *   O(N²) string concatenation, as in eventsource-parser).
 * - Memory is bounded: a line over `maxLineChars` errors the stream with a
 *   {@link FramingError} as soon as the bound is passed, without waiting
 *   for the line's end.
 *
 * @example
 * ```ts
 * body.pipeThrough(new TextDecoderStream()).pipeThrough(new NdjsonLineStream())
 * ```
 * @see https://github.com/ndjson/ndjson-spec
 * @see https://jsonlines.org/
 */
export class NdjsonLineStream extends TransformStream<string, string> {
  constructor(o: NdjsonLineStreamOptions = {}) {
    const max = o.maxLineChars ?? defaultMaxLineChars;
    /** Fragments of the line not yet terminated, and their total length. */
    let parts: string[] = [];
    let pending = 0;

    const emit = (line: string, out: TransformStreamDefaultController<string>) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (text.length > max) throw tooLong(max);
      if (text.trim() !== "") out.enqueue(text);
    };

    super({
      transform(chunk, out) {
        let start = 0;
        for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
          const piece = chunk.slice(start, nl);
          start = nl + 1;
          if (parts.length === 0) {
            emit(piece, out);
            continue;
          }
          parts.push(piece);
          const line = parts.join("");
          parts = [];
          pending = 0;
          emit(line, out);
        }
        if (start < chunk.length) {
          const rest = chunk.slice(start);
          parts.push(rest);
          pending += rest.length;
          // A held CR may still be the first half of a CRLF: it does not count.
          if (pending - (rest.endsWith("\r") ? 1 : 0) > max) throw tooLong(max);
        }
      },
      flush(out) {
        if (parts.length > 0) emit(parts.join(""), out);
        parts = [];
        pending = 0;
      },
    });
  }
}

function tooLong(max: number): FramingError {
  return new FramingError(`an NDJSON line is longer than ${max} characters`);
}
