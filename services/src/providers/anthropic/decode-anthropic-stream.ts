import type { StreamEvent } from "@airwave/proto";
import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";
import { adapt } from "../../adapt.js";
import { safeParseJson } from "../../safe-parse-json.js";
import { type AnthropicSseEvent, anthropicSseErrorSchema, anthropicStreamEventSchema } from "./anthropic-chunk.js";
import { anthropicChunkMapper } from "./map-anthropic-chunk.js";

/**
 * Bound on one buffered SSE event, in characters: 16 MiB. Anthropic sends a
 * server tool's result whole in one `content_block_start` (a fetched web
 * page or PDF as text can be several MiB). A longer event errors the stream
 * (`EventSourceParserStream`'s `maxBufferSize`), which the runtime reports
 * as `failed` UPSTREAM_MALFORMED.
 */
export const maxAnthropicEventChars = 16 * 1024 * 1024;

/**
 * Decodes a Messages API streaming body into airwave.v1 events (without
 * `started`): bytes → `TextDecoderStream` (UTF-8, code points split across
 * chunks are joined) → `EventSourceParserStream` → {@link AnthropicSseEvent}
 * (event name + JSON data, until `message_stop` or `error`) →
 * {@link anthropicChunkMapper}. The output does not depend on how the body
 * is split into chunks, and ends with exactly one terminal event unless the
 * body itself errors (network failure, oversized event, abort).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export function decodeAnthropicStream(body: ReadableStream<Uint8Array>): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxAnthropicEventChars }))
    .pipeThrough(transformAnthropicSse())
    .pipeThrough(adapt(anthropicChunkMapper));
}

/**
 * A stream stage from parsed SSE messages to {@link AnthropicSseEvent}s:
 * each message's `data` parsed as JSON and checked by the chunk schema
 * ({@link toAnthropicSseEvent}; data that is not JSON or not of the shape is
 * passed on as `{success: false}` for the mapper to fail on, never thrown),
 * messages with empty data skipped. After the stream's last event —
 * `message_stop`, or an `error` event — the readable side closes and the
 * upstream body is cancelled, so nothing after it is read.
 */
export function transformAnthropicSse(): TransformStream<EventSourceMessage, AnthropicSseEvent> {
  return new TransformStream<EventSourceMessage, AnthropicSseEvent>({
    transform(message, out) {
      const text = message.data.trim();
      if (text === "") return;
      const e = toAnthropicSseEvent(message.event, text);
      out.enqueue(e);
      const type = e.data.success ? e.data.value.type : undefined;
      if (type === "message_stop" || type === "error" || message.event === "error") out.terminate();
    },
  });
}

/**
 * One SSE message as the mapper reads it: its event name, and its data
 * parsed by {@link anthropicStreamEventSchema}, or by
 * {@link anthropicSseErrorSchema} when the event is named `error` (then the
 * data is an error event whatever its `type` says).
 */
export function toAnthropicSseEvent(event: string | undefined, data: string): AnthropicSseEvent {
  return { event, data: safeParseJson(data, event === "error" ? anthropicSseErrorSchema : anthropicStreamEventSchema) };
}
