import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type Cursor,
  ev,
  FramingError,
  formatCursor,
  NdjsonLineStream,
  type StreamEvent,
  StreamEventSchema,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { abortError, errorFromJson, toConnectError } from "./errors.js";
import { eventsUrl, postCancel, postInput, send } from "./http-send.js";
import type { GatewayHttpOptions, StreamTransport, WatchFilter } from "./transport.js";

/** Options of {@link createNdjsonTransport}. */
export interface NdjsonTransportOptions extends GatewayHttpOptions {
  /** Bound on one line, in characters; a longer one is Code.ResourceExhausted. @defaultValue 16 MiB */
  readonly maxLineChars?: number | undefined;
}

/**
 * StreamService over the gateway's NDJSON routes, for clients that read a
 * plain `fetch` body (no SSE parser): `POST /v1/streams` and
 * `GET /v1/streams/{id}/events?after=<cursor>` with `Accept:
 * application/x-ndjson`; cancel is `POST /v1/streams/{id}:cancel`, input
 * `POST /v1/streams/{id}:input`.
 *
 * Lines are `{"cursor", "event"}` (a StreamEvent in canonical JSON),
 * `{"heartbeat": {}}`, or `{"error": {code, message}}` (raised as that
 * ConnectError). A body that ends without a terminal event is left to the
 * resume loop, which sees the iteration end; a broken body is
 * Code.Unavailable.
 */
export function createNdjsonTransport(o: NdjsonTransportOptions): StreamTransport {
  const base = o.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof globalThis.fetch = (input, init) => (o.fetch ?? globalThis.fetch)(input, init);
  const maxLineChars = o.maxLineChars ?? 16 * 1024 * 1024;
  const accept = { Accept: "application/x-ndjson" };
  return {
    async *create(req: CreateStreamRequest, signal: AbortSignal) {
      const res = await send(doFetch, `${base}/v1/streams`, signal, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...accept },
        body: JSON.stringify(toJson(CreateStreamRequestSchema, req)),
      });
      yield* readNdjsonEvents(res, maxLineChars, signal);
    },
    async *watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter) {
      const url = eventsUrl(base, streamId, { after: cursor && formatCursor(cursor), filter });
      const res = await send(doFetch, url, signal, { headers: accept });
      yield* readNdjsonEvents(res, maxLineChars, signal);
    },
    cancel: (streamId: string, reason?: string) => postCancel(doFetch, base, streamId, reason),
    sendInput: (streamId: string, inputId: string, text: string, signal?: AbortSignal) =>
      postInput(doFetch, base, streamId, inputId, text, signal),
  };
}

/** Reads an NDJSON response of the gateway as StreamEvents. @private */
async function* readNdjsonEvents(res: Response, maxLineChars: number, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  if (res.status === 204 || res.body === null) return;
  const type = res.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/x-ndjson")) {
    await res.body.cancel().catch(() => {});
    throw new ConnectError(`unexpected response: Content-Type "${type}"`, Code.Unknown);
  }
  const reader = res.body
    .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .pipeThrough(new NdjsonLineStream({ maxLineChars }))
    .getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield decodeLine(r.value);
    }
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    if (e instanceof ConnectError) throw e;
    if (e instanceof FramingError) throw new ConnectError(`NDJSON line longer than ${maxLineChars} characters`, Code.ResourceExhausted);
    throw new ConnectError(`stream broke off: ${toConnectError(e).rawMessage}`, Code.Unavailable, undefined, undefined, e);
  } finally {
    void reader.cancel().catch(() => {});
  }
}

/** One NDJSON line of the gateway as a StreamEvent (or the error it carries). @private */
function decodeLine(line: string): StreamEvent {
  let j: { event?: JsonValue; heartbeat?: unknown; error?: unknown };
  try {
    j = JSON.parse(line) as typeof j;
  } catch (e) {
    throw new ConnectError("malformed NDJSON line", Code.Internal, undefined, undefined, e);
  }
  if (j.error !== undefined) throw errorFromJson(j.error);
  if (j.heartbeat !== undefined) return ev.heartbeat();
  if (j.event === undefined) throw new ConnectError("NDJSON line without an event", Code.Internal);
  return fromJson(StreamEventSchema, j.event, { ignoreUnknownFields: true });
}
