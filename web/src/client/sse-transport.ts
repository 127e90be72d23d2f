import { toJson } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type Cursor,
  formatCursor,
  isTerminal,
  PushQueue,
  type StreamEvent,
  StreamEventSchema,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { abortError, toConnectError } from "./errors.js";
import { eventsUrl, postCancel, postInput, send } from "./http-send.js";
import { decodeSseEvent, defaultMaxEventChars, readSseEvents } from "./sse-events.js";
import type { GatewayHttpOptions, StreamTransport, WatchFilter } from "./transport.js";

/** A constructor with the shape of the DOM's `EventSource`. */
export type EventSourceConstructor = new (url: string) => EventSource;

/** Options of {@link createSseTransport}. */
export interface SseTransportOptions extends GatewayHttpOptions {
  /** The `EventSource` to use for watch. @defaultValue `globalThis.EventSource` */
  readonly EventSource?: EventSourceConstructor | undefined;
  /** Bound on one SSE event read by fetch, in characters. @defaultValue {@link defaultMaxEventChars} */
  readonly maxEventChars?: number | undefined;
  /**
   * What reads a watch: a real `EventSource` (`"event-source"`), or `fetch`
   * with the same SSE parser as create (`"fetch"`: works where EventSource
   * does not, e.g. with an `Authorization` header added by a custom `fetch`).
   * @defaultValue `"event-source"`
   */
  readonly watchWith?: "event-source" | "fetch" | undefined;
}

/**
 * The HTTP routes of the gateway as a transport:
 * - `create`: `POST /v1/streams` with `Accept: text/event-stream`, the SSE
 *   body read by fetch ({@link readSseEvents});
 * - `watch`: a real `EventSource` on `GET /v1/streams/{id}/events?after=<cursor>`,
 *   closed after the terminal event, on abort, and on its `error` (raised as
 *   Code.Unavailable, so the resume loop resumes, instead of letting the
 *   EventSource reconnect on its own);
 *   or, with `watchWith: "fetch"`, the same GET read by fetch
 *   ({@link readSseEvents});
 * - `cancel`: `POST /v1/streams/{id}:cancel`; `sendInput`: `POST /v1/streams/{id}:input`.
 *
 * An SSE `event: error` and a non-2xx response become a ConnectError with the
 * code of their JSON body.
 */
export function createSseTransport(o: SseTransportOptions): StreamTransport {
  const base = o.baseUrl.replace(/\/+$/, "");
  const maxEventChars = o.maxEventChars ?? defaultMaxEventChars;
  const doFetch: typeof globalThis.fetch = (input, init) => (o.fetch ?? globalThis.fetch)(input, init);

  return {
    create(req: CreateStreamRequest, signal: AbortSignal) {
      return fetchSse(`${base}/v1/streams`, signal, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(toJson(CreateStreamRequestSchema, req)),
      });
    },

    watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter) {
      const url = eventsUrl(base, streamId, { after: cursor && formatCursor(cursor), filter });
      if (o.watchWith === "fetch") return fetchSse(url, signal, { headers: { Accept: "text/event-stream" } });
      return watchEventSource(url, o.EventSource ?? globalThis.EventSource, doFetch, signal);
    },

    cancel: (streamId: string, reason?: string) => postCancel(doFetch, base, streamId, reason),
    sendInput: (streamId: string, inputId: string, text: string, signal?: AbortSignal) =>
      postInput(doFetch, base, streamId, inputId, text, signal),
  };

  async function* fetchSse(url: string, signal: AbortSignal, init: RequestInit): AsyncGenerator<StreamEvent, void, undefined> {
    const res = await send(doFetch, url, signal, init);
    const type = res.headers.get("Content-Type") ?? "";
    if (res.body === null || !type.startsWith("text/event-stream")) {
      await res.body?.cancel().catch(() => {});
      throw new ConnectError(`unexpected response: Content-Type "${type}"`, Code.Unknown);
    }
    try {
      yield* readSseEvents(res.body, maxEventChars);
    } catch (e) {
      throw signal.aborted ? abortError(signal) : e;
    }
  }
}

/**
 * The SSE transport reading every response with `fetch` (no EventSource):
 * {@link createSseTransport} with `watchWith: "fetch"`.
 *
 * @example
 * const t = createSseFetchTransport({ baseUrl: location.origin });
 * for await (const e of streamWithResume(t, { request })) render(e);
 */
export function createSseFetchTransport(o: Omit<SseTransportOptions, "watchWith" | "EventSource">): StreamTransport {
  return createSseTransport({ ...o, watchWith: "fetch" });
}

/** The SSE `event:` names the gateway sends: every event kind, in snake_case. @private */
const eventNames: readonly string[] = StreamEventSchema.fields.filter((f) => f.oneof !== undefined).map((f) => f.name);

/**
 * Wraps an `EventSource` as an AsyncIterable of StreamEvents; see
 * {@link createSseTransport}. Nothing is lost between the EventSource's
 * callbacks and the consumer: events queue until pulled.
 * @private
 */
async function* watchEventSource(
  url: string,
  ES: EventSourceConstructor,
  doFetch: typeof globalThis.fetch,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  if (signal.aborted) throw abortError(signal);
  const queue = new PushQueue<StreamEvent>();
  const es = new ES(url);
  const fail = (f: ConnectError | typeof refused, o?: { drop: boolean }) => {
    queue.fail(f, o);
    es.close();
  };
  const onEvent = (e: Event) => {
    if (queue.ended) return;
    const data: unknown = (e as MessageEvent).data;
    if (typeof data !== "string") {
      // The EventSource's own `error`: CLOSED means it refused the response
      // (an HTTP error status), anything else a dropped connection that it
      // would retry by itself. Either way the resume loop decides.
      fail(es.readyState === 2 ? refused : new ConnectError("event stream interrupted", Code.Unavailable));
      return;
    }
    try {
      queue.push(decodeSseEvent(e.type, data));
    } catch (err) {
      fail(toConnectError(err));
    }
  };
  const onAbort = () => fail(abortError(signal), { drop: true });
  for (const name of [...eventNames, "message", "error"]) es.addEventListener(name, onEvent);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const e of queue) {
      yield e;
      if (isTerminal(e)) return;
    }
  } catch (f) {
    if (f === refused) throw await refusalError(url, doFetch, signal);
    throw f;
  } finally {
    es.close();
    signal.removeEventListener("abort", onAbort);
  }
}

/** The EventSource refused the response (closed without saying why): {@link refusalError} asks. @private */
const refused = Symbol("refused");

/**
 * An EventSource does not expose why it refused a response, so ask once with
 * `fetch`: a non-2xx answer gives the real error (e.g. Code.NotFound); anything
 * else is Code.Unavailable.
 * @private
 */
async function refusalError(url: string, doFetch: typeof globalThis.fetch, signal: AbortSignal): Promise<ConnectError> {
  try {
    const res = await send(doFetch, url, signal, { headers: { Accept: "text/event-stream" } });
    await res.body?.cancel().catch(() => {});
    return new ConnectError("event stream refused", Code.Unavailable);
  } catch (e) {
    return toConnectError(e);
  }
}
