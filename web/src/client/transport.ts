import type { CreateStreamRequest, Cursor, StreamEvent } from "@airwave/proto";

/** Where a transport reaches the gateway, and with which `fetch`: the options every HTTP-based transport shares. */
export interface GatewayHttpOptions {
  /** The gateway's origin (and path prefix, if any), e.g. `"http://127.0.0.1:8080"` or `location.origin`. */
  readonly baseUrl: string;
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/**
 * One way of carrying a stream to the browser (Connect, gRPC-Web, SSE,
 * NDJSON, long-poll, WebSocket).
 *
 * A transport only moves events: it neither resumes, deduplicates nor
 * retries. That is done once, above every transport, by
 * {@link streamWithResume}. Each method raises a `ConnectError`, never
 * anything else; a dropped connection is `Code.Unavailable`, an aborted
 * `signal` is `Code.Canceled`.
 */
export interface StreamTransport {
  /**
   * Starts a generation (`CreateStream`) and yields its events from the
   * first one. With `req.streamId` set, calling it again attaches to the
   * existing stream from its start.
   */
  create(req: CreateStreamRequest, signal: AbortSignal): AsyncIterable<StreamEvent>;
  /**
   * Watches a stream strictly after `cursor` (`WatchStream`); `undefined`
   * watches from the first event. With a cursor the first event is `resumed`.
   */
  watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter): AsyncIterable<StreamEvent>;
  /**
   * Cancels the generation (`CancelStream`): the model stops and the stream
   * ends with `completed` (FINISH_REASON_CANCELLED). Idempotent.
   *
   * Raises a ConnectError with Code.NotFound for an unknown stream.
   */
  cancel(streamId: string, reason?: string): Promise<void>;
  /**
   * Answers an `input_requested` event (`SendInput`) and resolves to the
   * input id answered (the pending one when `inputId` is empty). The stream
   * then logs `input_answered` and goes on.
   *
   * Raises a ConnectError: Code.NotFound for an unknown stream,
   * Code.InvalidArgument for an answer the request does not allow,
   * Code.FailedPrecondition (`airwave-reason` INPUT_NOT_PENDING or
   * STREAM_ENDED) when no such input is waiting.
   *
   * @example
   * const inputId = await transport.sendInput(streamId, e.event.value.inputId, "yes");
   */
  sendInput(streamId: string, inputId: string, text: string, signal?: AbortSignal): Promise<string>;
  /**
   * Releases what the transport holds open across streams (the WebSocket of
   * `createWebSocketTransport`); live iterations end with Code.Canceled.
   * Transports without shared connections omit it. The transport stays usable.
   */
  close?(): void;
}

/**
 * Which events a watch delivers (`WatchStreamRequest.agent_ids`; `?agent=`
 * on the HTTP routes): only these agents' events ("" is the main agent),
 * plus the events of the whole stream (started, usage, completed, failed,
 * resumed, heartbeat), in the log's order with exact cursors; and how
 * often (`coalesce_ms`).
 */
export interface WatchFilter {
  /** At most 32 ids of at most 64 characters; empty or undefined: every agent. */
  readonly agentIds?: readonly string[] | undefined;
  /**
   * Asks the gateway to read the log at most once per this many
   * milliseconds while live and to merge adjacent text and reasoning
   * deltas (`WatchStreamRequest.coalesce_ms`; `?coalesce_ms=` on the HTTP
   * routes): fewer frames, the same text, exact cursors, events up to this
   * much later. 0 … 5000 (more is Code.InvalidArgument); 0 or undefined: none.
   */
  readonly coalesceMs?: number | undefined;
}
