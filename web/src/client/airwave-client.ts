import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  type CreateStreamRequestSchema,
  type Cursor,
  type StreamEvent,
  type StreamInfo,
  StreamService,
} from "@airwave/proto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { pageUpdatePolicy, type UpdateFigures } from "../model/update-policy.js";
import { type ConnectionGuard, pageConnectionGuard } from "./connection-guard.js";
import { createConnectStreamTransport } from "./connect-transport.js";
import { toConnectError } from "./errors.js";
import { createGrpcWebStreamTransport } from "./grpc-web-transport.js";
import { createLongPollTransport } from "./long-poll-transport.js";
import { createNdjsonTransport } from "./ndjson-transport.js";
import { type NamedTransport, type ResumableStream, type ResumeOptions, streamWithResume, watchWithResume } from "./resume-loop.js";
import { createSseTransport, type EventSourceConstructor } from "./sse-transport.js";
import type { StreamTransport } from "./transport.js";
import { createWebSocketTransport, type WebSocketConstructor } from "./websocket-transport.js";

/**
 * The transports a browser can use:
 * - `"connect"`, `"grpc-web"`: StreamService RPCs (connect-web, binary Protobuf);
 * - `"sse"`: create read by fetch, watch by a real `EventSource`;
 * - `"sse-fetch"`: the same SSE routes, every response read by fetch;
 * - `"ndjson"`: the NDJSON routes read by fetch;
 * - `"websocket"`: one `/v1/ws` socket per client for all its streams;
 * - `"long-poll"`: request/response polls, for networks that buffer streaming.
 */
export type TransportName = "connect" | "grpc-web" | "sse" | "sse-fetch" | "ndjson" | "websocket" | "long-poll";

/**
 * Every {@link TransportName}, in the order a UI should offer them.
 *
 * @example
 * for (const name of transportNames) select.add(new Option(name));
 */
export const transportNames: readonly TransportName[] = ["connect", "grpc-web", "sse", "sse-fetch", "ndjson", "websocket", "long-poll"];

/**
 * The transports the resume loop falls back to, in order, when the chosen
 * one keeps failing ({@link AirwaveClientOptions.fallback}): WebSocket → SSE →
 * long-poll, for networks whose proxies block WebSockets or buffer streams.
 * Other transports have no fallback by default.
 */
export const defaultFallback: Readonly<Partial<Record<TransportName, readonly TransportName[]>>> = {
  websocket: ["sse", "long-poll"],
};

/** Options of {@link createAirwaveClient}. */
export interface AirwaveClientOptions {
  /** The gateway's origin (and path prefix, if any), e.g. `location.origin`. */
  readonly baseUrl: string;
  /** How events travel. @defaultValue `"connect"` */
  readonly transport?: TransportName | undefined;
  /**
   * The transports to fall back to, in order, after `fallbackAfter` failed
   * attempts in a row on the current one (`[]`: never).
   * @defaultValue {@link defaultFallback}`[transport]`, else `[]`
   */
  readonly fallback?: readonly TransportName[] | undefined;
  /** Failed attempts in a row on one transport before falling back. @defaultValue 3 */
  readonly fallbackAfter?: number | undefined;
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** The `EventSource` for the `"sse"` transport. @defaultValue `globalThis.EventSource` */
  readonly EventSource?: EventSourceConstructor | undefined;
  /** The `WebSocket` for the `"websocket"` transport. @defaultValue `globalThis.WebSocket` */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** The WebSocket encoding: `"json"` (`airwave.v1.json`) or `"proto"` (`airwave.v1.proto`). @defaultValue `"json"` */
  readonly webSocketProtocol?: "json" | "proto" | undefined;
  /**
   * An API key: `Authorization: Bearer <key>` on every fetch, the
   * `airwave.bearer.<key>` subprotocol (or `auth` message) on the WebSocket.
   * An `EventSource` cannot send it (use `"sse-fetch"`), nor can
   * `navigator.sendBeacon`. Without it the gateway uses its cookie identity.
   */
  readonly apiKey?: string | undefined;
  /**
   * The W3C `traceparent` to send with each request (called per request;
   * `undefined`: none), so the gateway's spans join the page's trace: the
   * `traceparent` header on Connect, gRPC-Web, SSE (`"sse-fetch"`, and the
   * create of `"sse"`), NDJSON and long-poll, the message's `traceparent`
   * field on the WebSocket. A native `EventSource` cannot send it.
   * {@link newTraceparent} makes one.
   */
  readonly traceparent?: (() => string | undefined) | undefined;
  /**
   * One live connection per stream: each iteration takes its stream's slot,
   * ending an older iteration of the same stream. `null` turns it off.
   * @defaultValue {@link pageConnectionGuard} (shared by every client of the page)
   */
  readonly guard?: ConnectionGuard | null | undefined;
  /**
   * Where the client reads, at each create and watch attempt, the interval
   * over which it asks the gateway to coalesce deltas
   * (`UpdatePolicy.coalesceMs`: 500 ms on a slow link — `saveData`,
   * `slow-2g`/`2g`, RTT ≥ 1400 ms —, else 0: not asked). `false`: never
   * ask. `StreamOptions.coalesceMs` overrides it per stream.
   * @defaultValue {@link pageUpdatePolicy}()
   */
  readonly updatePolicy?: { readonly current: Pick<UpdateFigures, "coalesceMs"> } | false | undefined;
}

/** Options of {@link AirwaveClient.stream} and {@link AirwaveClient.watch}: the resume loop's, plus the transport. */
export interface StreamOptions extends Omit<ResumeOptions, "guard"> {
  /** The transport for this stream. @defaultValue the client's */
  readonly transport?: TransportName | undefined;
  /** The fallback chain after `transport`. @defaultValue the client's, else {@link defaultFallback}`[transport]` */
  readonly fallback?: readonly TransportName[] | undefined;
}

/** Options of {@link AirwaveClient.cancel} and {@link AirwaveClient.sendInput}. */
export interface CallOptions {
  /** The transport to send it on. @defaultValue the one the stream's iteration uses now, else the client's */
  readonly transport?: TransportName | undefined;
  /** Aborts the call (Code.Canceled). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A client of the gateway's StreamService over one chosen transport (with
 * fallbacks); see {@link createAirwaveClient}.
 */
export interface AirwaveClient {
  /** The client's transport (what streams use unless told otherwise). */
  readonly transport: TransportName;
  /**
   * Starts a generation and follows it to its terminal event, resuming on
   * its own ({@link streamWithResume}). The stream id is known at once:
   * `client.stream(req).streamId`.
   *
   * @example
   * const s = client.stream({ request: { model: "simulator", messages } }, { signal, onRetry, onFallback });
   * for await (const e of s) render(e);
   */
  stream(req: CreateStreamRequest | MessageInitShape<typeof CreateStreamRequestSchema>, opts?: StreamOptions): ResumableStream;
  /**
   * Follows an existing stream ({@link watchWithResume}): after `cursor`
   * (a Cursor or `"<epoch>:<seq>"`), or from its first event without one.
   * Raises Code.NotFound for an unknown (or foreign) stream.
   *
   * @example
   * for (const saved of page.restore()) for await (const e of page.track(client.watch(saved.streamId))) render(e);
   */
  watch(streamId: string, cursor?: Cursor | string, opts?: StreamOptions): ResumableStream;
  /**
   * Cancels a generation: the model stops, and the stream ends with
   * `completed` (FINISH_REASON_CANCELLED). Raises a ConnectError
   * (Code.NotFound for an unknown stream).
   *
   * @example
   * stopButton.onclick = () => client.cancel(stream.streamId, "stopped by the user");
   */
  cancel(streamId: string, reason?: string, opts?: CallOptions): Promise<void>;
  /**
   * Answers an `input_requested` event; resolves to the input id answered.
   * The stream then logs `input_answered`. Raises a ConnectError
   * (Code.NotFound, Code.InvalidArgument, Code.FailedPrecondition with
   * `airwave-reason` INPUT_NOT_PENDING or STREAM_ENDED).
   *
   * @example
   * if (e.event.case === "inputRequested") await client.sendInput(s.streamId, e.event.value.inputId, "yes");
   */
  sendInput(streamId: string, inputId: string, text: string, opts?: CallOptions): Promise<string>;
  /** A stream's state and last position. Raises a ConnectError (Code.NotFound for an unknown stream). */
  get(streamId: string, signal?: AbortSignal): Promise<StreamInfo>;
  /** Closes what the client holds open (its WebSocket); live iterations over it end with Code.Canceled. The client stays usable. */
  close(): void;
}

/**
 * Creates a client for the gateway at `baseUrl`. Transports are made on
 * first use and shared by the client's streams (one WebSocket for all of
 * them). `cancel` and `sendInput` go over the transport the stream's
 * iteration uses at that moment (after a fallback, the new one). `get`
 * always uses an RPC (Connect, or gRPC-Web when that is the transport): the
 * HTTP routes have no typed GetStream.
 *
 * @example
 * const client = createAirwaveClient({ baseUrl: location.origin, transport: "websocket" });
 * const stream = client.stream({ request: { model: "simulator", messages } }, {
 *   signal,
 *   onRetry: () => show("reconnecting…"),
 *   onFallback: ({ to }) => show(`switched to ${to}`),
 * });
 * for await (const e of stream) render(e);
 */
export function createAirwaveClient(o: AirwaveClientOptions): AirwaveClient {
  const name = o.transport ?? "connect";
  const guard = o.guard === null ? undefined : (o.guard ?? pageConnectionGuard);
  const policy = o.updatePolicy === false ? undefined : (o.updatePolicy ?? pageUpdatePolicy());
  const coalesceMs = policy && (() => policy.current.coalesceMs);
  const doFetch = withHeaders(o.fetch, o.apiKey, o.traceparent);
  const fetchOpt = doFetch ? { fetch: doFetch } : {};
  const made = new Map<TransportName, StreamTransport>();
  /** The transport each live iteration uses now, by stream id (for cancel and input). */
  const active = new Map<string, { name: TransportName }>();

  function transportFor(n: TransportName): StreamTransport {
    let t = made.get(n);
    if (t === undefined) {
      t = makeTransport(n);
      made.set(n, t);
    }
    return t;
  }
  function makeTransport(n: TransportName): StreamTransport {
    const baseUrl = o.baseUrl;
    switch (n) {
      case "connect":
        return createConnectStreamTransport({ baseUrl, ...fetchOpt });
      case "grpc-web":
        return createGrpcWebStreamTransport({ baseUrl, ...fetchOpt });
      case "sse":
        return createSseTransport({ baseUrl, ...fetchOpt, EventSource: o.EventSource });
      case "sse-fetch":
        return createSseTransport({ baseUrl, ...fetchOpt, watchWith: "fetch" });
      case "ndjson":
        return createNdjsonTransport({ baseUrl, ...fetchOpt });
      case "long-poll":
        return createLongPollTransport({ baseUrl, ...fetchOpt });
      case "websocket":
        return createWebSocketTransport({
          baseUrl,
          WebSocket: o.WebSocket,
          protocol: o.webSocketProtocol,
          apiKey: o.apiKey,
          traceparent: o.traceparent,
        });
      default:
        throw new ConnectError(`unknown transport "${String(n)}"; want one of ${transportNames.join(", ")}`, Code.InvalidArgument);
    }
  }
  function lanes(opts: StreamOptions): NamedTransport[] {
    const first = opts.transport ?? name;
    const rest = opts.fallback ?? (opts.transport === undefined ? o.fallback : undefined) ?? defaultFallback[first] ?? [];
    return [...new Set([first, ...rest])].map((n) => ({ name: n, transport: transportFor(n) }));
  }
  /** Wraps a resumable stream to keep {@link active} current for its iterations. */
  function tracked(first: TransportName, make: (o: ResumeOptions) => ResumableStream, opts: StreamOptions): ResumableStream {
    let streamId = "";
    const s = make({
      ...opts,
      guard,
      fallbackAfter: opts.fallbackAfter ?? o.fallbackAfter,
      coalesceMs: opts.coalesceMs ?? coalesceMs,
      onFallback(info) {
        const now = active.get(streamId);
        if (now !== undefined) now.name = info.to as TransportName;
        opts.onFallback?.(info);
      },
    });
    streamId = s.streamId;
    return {
      streamId,
      async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent, void, undefined> {
        const mine = { name: first };
        active.set(streamId, mine);
        try {
          yield* s;
        } finally {
          if (active.get(streamId) === mine) active.delete(streamId);
        }
      },
    };
  }
  const rpc = createClient(
    StreamService,
    name === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...fetchOpt })
      : createConnectTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...fetchOpt }),
  );
  const callTransport = (streamId: string, opts: CallOptions | undefined) =>
    transportFor(opts?.transport ?? active.get(streamId)?.name ?? name);

  return {
    transport: name,
    stream(req, opts = {}) {
      const chain = lanes(opts);
      return tracked(chain[0]?.name as TransportName, (ro) => streamWithResume(chain, req, ro), opts);
    },
    watch(streamId, cursor, opts = {}) {
      const chain = lanes(opts);
      return tracked(chain[0]?.name as TransportName, (ro) => watchWithResume(chain, streamId, cursor, ro), opts);
    },
    cancel: (streamId, reason, opts) => callTransport(streamId, opts).cancel(streamId, reason),
    sendInput: (streamId, inputId, text, opts) => callTransport(streamId, opts).sendInput(streamId, inputId, text, opts?.signal),
    async get(streamId, signal) {
      try {
        const res = await rpc.getStream({ streamId }, signal ? { signal } : {});
        if (!res.stream) throw new ConnectError("GetStream answered without a stream", Code.Internal);
        return res.stream;
      } catch (e) {
        throw toConnectError(e);
      }
    },
    close() {
      for (const t of made.values()) t.close?.();
    },
  };
}

/** `fetch` sending `Authorization: Bearer <apiKey>`; `base` itself without a key. @private */
function withHeaders(
  base: typeof globalThis.fetch | undefined,
  apiKey: string | undefined,
  traceparent: (() => string | undefined) | undefined,
): typeof globalThis.fetch | undefined {
  if (apiKey === undefined && traceparent === undefined) return base;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (apiKey !== undefined) headers.set("Authorization", `Bearer ${apiKey}`);
    const tp = traceparent?.();
    if (tp) headers.set("traceparent", tp);
    return (base ?? globalThis.fetch)(input, { ...init, headers });
  };
}
