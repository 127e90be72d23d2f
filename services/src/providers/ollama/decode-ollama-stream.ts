import type { StreamEvent } from "@airwave/proto";
import { adapt } from "../../adapt.js";
import { NdjsonLineStream } from "@airwave/proto";
import { type ParseResult, safeParseJson } from "../../safe-parse-json.js";
import { createOllamaChunkMapper, type OllamaChunkMapperOptions } from "./map-ollama-chunk.js";
import { type OllamaChunk, ollamaChunkSchema } from "./ollama-chunk.js";

/**
 * Bound on one NDJSON line, in characters: 4 MiB. Ollama's longest line is
 * the last one of `/api/generate`, with the `context` token array of the
 * whole conversation; a longer line errors the stream with a
 * `FramingError`, which the runtime reports as `failed` UPSTREAM_MALFORMED.
 */
export const maxOllamaLineChars = 4 * 1024 * 1024;

/**
 * Decodes an Ollama `/api/chat` or `/api/generate` streaming body
 * (`application/x-ndjson`) into airwave.v1 events (without `started`):
 * bytes → `TextDecoderStream` (UTF-8, code points split across chunks are
 * joined) → {@link NdjsonLineStream} (bounded lines, CRLF, blank lines, a
 * last line without newline) → JSON per line, checked against
 * `ollamaChunkSchema` (a line that is not a JSON object is passed on as a
 * failed parse, never thrown) → the Ollama mapper. The output
 * does not depend on how the body is split into chunks, and ends with
 * exactly one terminal event unless the body itself errors (network
 * failure, oversized line, abort).
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export function decodeOllamaStream(body: ReadableStream<Uint8Array>, o: OllamaChunkMapperOptions = {}): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new NdjsonLineStream({ maxLineChars: maxOllamaLineChars }))
    .pipeThrough(
      new TransformStream<string, ParseResult<OllamaChunk>>({
        transform(line, out) {
          out.enqueue(safeParseJson(line, ollamaChunkSchema));
        },
      }),
    )
    .pipeThrough(adapt(createOllamaChunkMapper(o)));
}
