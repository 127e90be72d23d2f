import { fromJson } from "@bufbuild/protobuf";
import { type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { type EventSourceMessage, EventSourceParserStream, ParseError } from "eventsource-parser/stream";
import { errorFromJson, toConnectError } from "./errors.js";

/**
 * Bound on one buffered SSE event, in characters (4 MiB): a longer event
 * errors the stream with Code.ResourceExhausted.
 */
export const defaultMaxEventChars = 4 * 1024 * 1024;

/**
 * Decodes one SSE event of the gateway: `data` is a StreamEvent in canonical
 * protobuf JSON; the `event:` name (the kind, in snake_case) is redundant
 * with it and ignored, except `error`.
 *
 * Raises a ConnectError with the code and message of the data for an
 * `event: error` (`{"code":"unavailable","message":"…"}`), and with
 * Code.Internal when the data is not a StreamEvent. Unknown fields and
 * event kinds are ignored (the event then has `event.case` undefined).
 */
export function decodeSseEvent(type: string | undefined, data: string): StreamEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (e) {
    throw new ConnectError(`protocol error: SSE data is not JSON`, Code.Internal, undefined, undefined, e);
  }
  if (type === "error") throw errorFromJson(json);
  try {
    return fromJson(StreamEventSchema, json as Parameters<typeof fromJson>[1], { ignoreUnknownFields: true });
  } catch (e) {
    throw new ConnectError(`protocol error: SSE data is not a StreamEvent`, Code.Internal, undefined, undefined, e);
  }
}

/**
 * The stage after `EventSourceParserStream`: each parsed SSE message becomes
 * a StreamEvent ({@link decodeSseEvent}); an `event: error` errors the stream.
 * Comments (heartbeats) never reach it.
 */
export function transformSseEvents(): TransformStream<EventSourceMessage, StreamEvent> {
  return new TransformStream({
    transform(msg, out) {
      out.enqueue(decodeSseEvent(msg.event, msg.data));
    },
  });
}

/**
 * Reads an SSE response body as StreamEvents:
 * bytes → `TextDecoderStream` → `EventSourceParserStream` → {@link transformSseEvents}.
 * Chunk boundaries may fall anywhere, even inside a UTF-8 sequence.
 *
 * Raises a ConnectError: the code of an `event: error`; Code.Unavailable when
 * the body breaks off (a network error); Code.ResourceExhausted when one
 * event exceeds `maxEventChars`. Stopping the iteration cancels the body.
 */
export async function* readSseEvents(
  body: ReadableStream<Uint8Array>,
  maxEventChars: number = defaultMaxEventChars,
): AsyncGenerator<StreamEvent, void, undefined> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxEventChars }))
    .pipeThrough(transformSseEvents())
    .getReader();
  let ended = false;
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (e) {
        ended = true;
        if (e instanceof ParseError && e.type === "max-buffer-size-exceeded") {
          throw new ConnectError(`SSE event longer than ${maxEventChars} characters`, Code.ResourceExhausted, undefined, undefined, e);
        }
        throw toConnectError(e);
      }
      if (r.done) {
        ended = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
