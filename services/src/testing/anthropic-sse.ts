import type { StreamEvent } from "@airwave/proto";
import { decodeAnthropicStream } from "../providers/anthropic/decode-anthropic-stream.js";

/**
 * Test support for the anthropic kind (not part of the build's public
 * surface): feeding bodies to the decoder and writing SSE events the way
 * Anthropic frames them. @private
 */

/** Feeds `bytes` to {@link decodeAnthropicStream} in pieces cut at `cuts` (sorted byte offsets) and collects the events. */
export async function decodeCut(bytes: Uint8Array, cuts: readonly number[]): Promise<StreamEvent[]> {
  const ends = [...cuts, bytes.byteLength];
  let from = 0;
  let next = 0;
  // Pull-based: one piece per read, like a network body (enqueueing a whole
  // body of 1-byte pieces up front makes the pipe superlinearly slow).
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      while (next < ends.length) {
        const to = ends[next++] ?? bytes.byteLength;
        if (to > from) {
          c.enqueue(bytes.slice(from, to));
          from = to;
          return;
        }
      }
      c.close();
    },
  });
  return Array.fromAsync(decodeAnthropicStream(body));
}

/** Feeds `bytes` in chunks of `size` bytes (0 = whole body) and collects the events. */
export function decodeChunked(bytes: Uint8Array, size = 0): Promise<StreamEvent[]> {
  const cuts: number[] = [];
  if (size > 0) for (let i = size; i < bytes.byteLength; i += size) cuts.push(i);
  return decodeCut(bytes, cuts);
}

/** Decodes SSE text, whole. */
export function decodeText(text: string): Promise<StreamEvent[]> {
  return decodeChunked(new TextEncoder().encode(text));
}

/** One SSE event as Anthropic sends it: `event: <data.type>` then the JSON data. */
export function sse(...events: object[]): string {
  return events.map((d) => `event: ${String((d as { type?: unknown }).type)}\ndata: ${JSON.stringify(d)}\n\n`).join("");
}

/** The `message_start` event of Anthropic's documentation example. */
export const messageStart = (usage: object = { input_tokens: 25, output_tokens: 1 }) => ({
  type: "message_start",
  message: {
    id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
    type: "message",
    role: "assistant",
    content: [],
    model: "claude-opus-4-20250514",
    stop_reason: null,
    stop_sequence: null,
    usage,
  },
});

/** A `message_delta` with `stop_reason` and `usage`. */
export const messageDelta = (stop_reason: string, usage: object = { output_tokens: 15 }, delta: object = {}) => ({
  type: "message_delta",
  delta: { stop_reason, stop_sequence: null, ...delta },
  usage,
});

/** `content_block_start`. */
export const blockStart = (index: number, content_block: object) => ({ type: "content_block_start", index, content_block });
/** `content_block_delta`. */
export const blockDelta = (index: number, delta: object) => ({ type: "content_block_delta", index, delta });
/** `content_block_stop`. */
export const blockStop = (index: number) => ({ type: "content_block_stop", index });
/** `message_stop`. */
export const messageStop = { type: "message_stop" };
/** `ping`. */
export const ping = { type: "ping" };
