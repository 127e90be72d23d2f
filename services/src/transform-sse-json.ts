import type { EventSourceMessage } from "eventsource-parser/stream";
import type { z } from "zod";
import { type ParseResult, safeParseJson } from "./safe-parse-json.js";

/**
 * A stream stage from parsed SSE messages to their JSON `data`, for
 * providers that stream one JSON object per event (OpenAI Chat Completions
 * and its compatible servers, the Responses API, TGI).
 *
 * - Each message's `data` becomes a {@link ParseResult}: a non-JSON data line
 *   (or data not of the schema's shape) is passed on as
 *   `{success: false}` (the mapper turns it into a `failed` event), never thrown.
 * - The sentinel `data: [DONE]` ends the stream: the readable side closes and
 *   the upstream body is cancelled, so nothing after it is read.
 * - Messages with empty data are skipped. The SSE `event:` name is ignored:
 *   an `event: error` message carries an `{"error": …}` object that the mapper
 *   recognises by its shape.
 *
 * @param schema - the provider's chunk schema (see `safeParseJson`).
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 */
export function transformSseJson<S extends z.ZodType>(schema: S): TransformStream<EventSourceMessage, ParseResult<z.output<S>>> {
  return new TransformStream<EventSourceMessage, ParseResult<z.output<S>>>({
    transform(message, out) {
      const data = message.data.trim();
      if (data === "") return;
      if (data === "[DONE]") {
        out.terminate();
        return;
      }
      out.enqueue(safeParseJson(data, schema));
    },
  });
}
