import { clone, create, isMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type Cursor,
  isTerminal,
  newStreamId,
  parseCursor,
  ResumeOutcome,
  retryableCodes,
  type StreamEvent,
  StreamEventSchema,
  delay as sleep,
  formatCursor,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectionGuard } from "./connection-guard.js";
import { abortError, toConnectError } from "./errors.js";
import type { StreamTransport } from "./transport.js";

/** How {@link streamWithResume} waits between attempts. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds; doubles with each failed attempt. @defaultValue 250 */
  readonly initialDelayMs?: number | undefined;
  /** Upper bound on one delay, in milliseconds. @defaultValue 5000 */
  readonly maxDelayMs?: number | undefined;
  /**
   * Retries in a row without progress before the last error is raised. About
   * 30 s of retrying with the defaults, the gateway's default detach grace.
   * @defaultValue 10
   */
  readonly maxAttempts?: number | undefined;
  /** Waits `ms` milliseconds; rejects when `signal` aborts. Injectable for tests. @defaultValue {@link delay} */
  readonly delay?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** A random number in [0, 1) for the jitter. Injectable for tests. @defaultValue `Math.random` */
  readonly random?: (() => number) | undefined;
}

/** What {@link ResumeOptions.onRetry} is told before each wait. */
export interface RetryInfo {
  /** 1 for the first retry after progress, then 2, 3, … */
  readonly attempt: number;
  /** How long the loop waits before the attempt, in milliseconds. */
  readonly delayMs: number;
  /** The retryable error that ended the previous attempt. */
  readonly error: ConnectError;
  /** Where the attempt resumes; `undefined` repeats the (idempotent) create. */
  readonly cursor: Cursor | undefined;
}

/** What {@link ResumeOptions.onFallback} is told when the loop moves to the next transport. */
export interface FallbackInfo {
  /** The name of the transport given up. */
  readonly from: string;
  /** The name of the transport the next attempt uses. */
  readonly to: string;
  /** The retryable error that ended the last attempt on `from`. */
  readonly error: ConnectError;
  /** Where the next attempt resumes (the cursor is the same on every transport); `undefined` repeats the create. */
  readonly cursor: Cursor | undefined;
}

/**
 * A transport with a name, for a fallback chain: `[{ name: "websocket",
 * transport: ws }, { name: "sse", transport: sse }]`.
 */
export interface NamedTransport {
  /** How {@link FallbackInfo} names it, e.g. `"websocket"`. */
  readonly name: string;
  readonly transport: StreamTransport;
}

/** One transport, or an ordered fallback chain of named ones (the first is used first). */
export type TransportChain = StreamTransport | readonly NamedTransport[];

/** Options of {@link streamWithResume} and {@link watchWithResume}. */
export interface ResumeOptions {
  /** Ends the stream locally (never the generation: use `cancel` for that); the iteration raises Code.Canceled. */
  readonly signal?: AbortSignal | undefined;
  /** The client-chosen stream id. @defaultValue `req.streamId`, else {@link newStreamId}() */
  readonly streamId?: string | undefined;
  /** Backoff between attempts. */
  readonly backoff?: BackoffOptions | undefined;
  /** Called before each wait for a retry, e.g. to show "reconnecting…". */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
  /**
   * With a fallback chain: failed attempts in a row, without progress, on one
   * transport before the loop moves to the next one (at once, without
   * waiting). Progress (a logged event or a heartbeat) resets the count; the
   * loop never moves back. @defaultValue 3
   */
  readonly fallbackAfter?: number | undefined;
  /** Called when the loop moves to the next transport of the chain, e.g. to show "switched to SSE". */
  readonly onFallback?: ((info: FallbackInfo) => void) | undefined;
  /**
   * Each iteration takes the stream's slot in this guard, ending the
   * iteration that held it (Code.Canceled) before it connects: one live
   * connection per stream. @defaultValue none
   */
  readonly guard?: ConnectionGuard | undefined;
  /**
   * Only these agents' events (and the whole stream's) on every watch of the
   * loop; see {@link WatchFilter}. The first attempt of a `stream` (a create)
   * delivers every event; the filter applies from its first resume on.
   */
  readonly agentIds?: readonly string[] | undefined;
  /**
   * The gateway's coalescing interval for each attempt, in ms (see
   * {@link WatchFilter}.coalesceMs): on every watch, and on the create
   * (`CreateStreamRequest.coalesce_ms`, replacing the request's own). A
   * function is called at each attempt, so a resume after the network
   * changed asks for the interval that fits it (`createAirwaveClient`
   * passes its update policy's `coalesceMs`). @defaultValue the request's
   * own `coalesce_ms` on the create, none on watches
   */
  readonly coalesceMs?: number | (() => number) | undefined;
}

/** The events of one stream, with the id it was created under (known before the first event). */
export interface ResumableStream extends AsyncIterable<StreamEvent> {
  /** The client-chosen stream id: what `cancel` and `get` take. */
  readonly streamId: string;
}

/** The defaults of {@link BackoffOptions}. */
export const defaultBackoff = { initialDelayMs: 250, maxDelayMs: 5_000, maxAttempts: 10 } as const;

/** The default of {@link ResumeOptions.fallbackAfter}. */
export const defaultFallbackAfter = 3;

/**
 * Creates a stream and follows it to its terminal event, resuming across
 * dropped connections: the one resume loop for every transport.
 *
 * - The stream id is chosen here, so a create that fails before its first
 *   event is simply repeated (CreateStream is idempotent per id). After the
 *   first logged event, the loop resumes with `watch(streamId, lastCursor)`.
 * - An attempt ends with a retryable error (`retryableCodes`: Unavailable —
 *   including network errors —, ResourceExhausted, Aborted, DeadlineExceeded)
 *   or a response that ends before the terminal event. The loop then waits
 *   min(maxDelayMs, initialDelayMs·2ⁿ)·(½ + ½·random) ms, or the error's
 *   `retry-after-ms` metadata when that is longer, and tries again, at most
 *   `maxAttempts` times in a row without progress (a new logged event or a
 *   heartbeat); then it raises the last error.
 * - With a fallback chain (`[{name, transport}, …]`), after `fallbackAfter`
 *   failed attempts in a row on one transport the next attempt uses the next
 *   transport, from the same cursor (cursors are the same on every
 *   transport), and `onFallback` is told. Only retryable failures count;
 *   `maxAttempts` bounds the attempts over the whole chain.
 * - Events with `seq` ≤ the last seen in the same epoch are dropped.
 * - `resumed` events are yielded. Unless RESUME_OUTCOME_RECOVERED, the loop
 *   continues after the cursor the `resumed` event names: with
 *   RESUME_OUTCOME_EPOCH_CHANGED (or UNKNOWN_CURSOR, or an outcome this
 *   client does not know) the events that follow replay the current epoch,
 *   and the consumer must discard what it rendered; with TRIMMED or EXPIRED
 *   some events were lost and the consumer should say so. An event of another epoch without that notice
 *   is preceded by a synthesised `resumed` (EPOCH_CHANGED) all the same.
 * - Heartbeats are consumed here, never yielded.
 * - The iteration ends after the terminal event (`completed` or `failed`; a
 *   failed generation is data, not an error, and is not retried).
 *
 * Raises a ConnectError: a non-retryable code as the transport raised it
 * (e.g. NotFound, InvalidArgument, OutOfRange when the log was trimmed past
 * the cursor), the last retryable one after `maxAttempts`, or Code.Canceled
 * when `signal` aborts (never retried) or a newer iteration of the stream
 * took the `guard`. Each iteration of the result is a separate watch of the
 * same stream.
 *
 * @example
 * const stream = streamWithResume(
 *   [{ name: "websocket", transport: ws }, { name: "sse", transport: sse }],
 *   { request: { model: "simulator", messages } },
 *   { signal, onFallback: ({ from, to }) => console.info(`${from} → ${to}`) },
 * );
 * for await (const e of stream) render(e);
 */
export function streamWithResume(
  transport: TransportChain,
  req: CreateStreamRequest | MessageInitShape<typeof CreateStreamRequestSchema>,
  o: ResumeOptions = {},
): ResumableStream {
  const msg = isMessage(req, CreateStreamRequestSchema) ? clone(CreateStreamRequestSchema, req) : create(CreateStreamRequestSchema, req);
  const streamId = o.streamId ?? (msg.streamId !== "" ? msg.streamId : newStreamId());
  msg.streamId = streamId;
  const lanes = chain(transport);
  return { streamId, [Symbol.asyncIterator]: () => resume(lanes, streamId, msg, undefined, o) };
}

/**
 * Follows an existing stream to its terminal event with the same resume loop
 * as {@link streamWithResume}, starting with `watch(streamId, cursor)`:
 * strictly after `cursor` (a {@link Cursor} or its text form `"<epoch>:<seq>"`,
 * e.g. saved before a reload), or from the first event without one. With a
 * cursor the first event is `resumed`.
 *
 * Raises what {@link streamWithResume} raises, and Code.InvalidArgument (when
 * iterated) for a malformed cursor text.
 *
 * @example
 * for await (const e of watchWithResume(transport, saved.streamId, saved.cursor, { signal })) render(e);
 */
export function watchWithResume(
  transport: TransportChain,
  streamId: string,
  cursor: Cursor | string | undefined,
  o: ResumeOptions = {},
): ResumableStream {
  const lanes = chain(transport);
  return {
    streamId,
    [Symbol.asyncIterator]: () => resume(lanes, streamId, undefined, cursor, o),
  };
}

/** @private */
function chain(t: TransportChain): readonly NamedTransport[] {
  if (!isChain(t)) return [{ name: "transport", transport: t }];
  if (t.length === 0) throw new ConnectError("the transport chain is empty", Code.InvalidArgument);
  return t;
}

/** @private */
function isChain(t: TransportChain): t is readonly NamedTransport[] {
  return Array.isArray(t);
}

/**
 * The loop of {@link streamWithResume} (with `req`) and {@link
 * watchWithResume} (without).
 * @private
 */
async function* resume(
  lanes: readonly NamedTransport[],
  streamId: string,
  req: CreateStreamRequest | undefined,
  from: Cursor | string | undefined,
  o: ResumeOptions,
): AsyncGenerator<StreamEvent, void, undefined> {
  let cursor: Cursor | undefined = typeof from === "string" ? parseCursor(from) : from;
  // The guard first: the iteration it ends releases its connection before this one connects.
  const lease = o.guard?.acquire(streamId);
  const stop = new AbortController();
  const onStop = (s: AbortSignal) => () => stop.abort(s.reason);
  const sources = [o.signal, lease?.signal].filter((s): s is AbortSignal => s !== undefined);
  const listeners = sources.map((s) => [s, onStop(s)] as const);
  for (const [s, f] of listeners) {
    if (s.aborted) f();
    else s.addEventListener("abort", f, { once: true });
  }
  const signal = stop.signal;
  const b = { ...defaultBackoff, delay, random: Math.random, ...definedOnly(o.backoff ?? {}) };
  const fallbackAfter = o.fallbackAfter ?? defaultFallbackAfter;
  let lane = 0;
  let laneFailures = 0;
  let failures = 0;
  try {
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      const t = (lanes[lane] as NamedTransport).transport;
      // One controller per attempt: ending the attempt (terminal event, error,
      // consumer break) always releases its connection.
      const attempt = new AbortController();
      const onAbort = () => attempt.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      let error: ConnectError;
      try {
        const coalesceMs = typeof o.coalesceMs === "function" ? o.coalesceMs() : o.coalesceMs;
        if (req !== undefined && coalesceMs !== undefined) req.coalesceMs = coalesceMs;
        const events =
          req !== undefined && cursor === undefined
            ? t.create(req, attempt.signal)
            : t.watch(streamId, cursor, attempt.signal, { agentIds: o.agentIds, coalesceMs });
        for await (const e of events) {
          switch (e.event.case) {
            case "heartbeat":
              failures = laneFailures = 0;
              continue;
            case "resumed":
              // Not exact: the watch continues after the cursor the gateway names (events
              // in between are lost, or — for another epoch — replayed from its start).
              if (e.event.value.outcome !== ResumeOutcome.RECOVERED) cursor = tryParseCursor(e.event.value.cursor) ?? cursor;
              yield e;
              continue;
          }
          if (e.seq > 0) {
            if (cursor !== undefined && e.epoch === cursor.epoch && e.seq <= cursor.seq) continue; // seen before the resume
            if (cursor !== undefined && e.epoch !== cursor.epoch) yield epochChanged(e);
            cursor = { epoch: e.epoch, seq: e.seq };
            failures = laneFailures = 0;
          }
          yield e;
          if (isTerminal(e)) return;
        }
        error = new ConnectError("stream ended before its terminal event", Code.Unavailable);
      } catch (e) {
        if (signal.aborted) throw abortError(signal);
        error = toConnectError(e);
        if (!retryableCodes.has(error.code)) throw error;
      } finally {
        signal.removeEventListener("abort", onAbort);
        attempt.abort();
      }
      if (++failures > b.maxAttempts) throw error;
      if (++laneFailures >= fallbackAfter && lane < lanes.length - 1) {
        const fromName = (lanes[lane] as NamedTransport).name;
        lane++;
        laneFailures = 0;
        o.onFallback?.({ from: fromName, to: (lanes[lane] as NamedTransport).name, error, cursor });
        continue;
      }
      const backoffMs = Math.round(Math.min(b.maxDelayMs, b.initialDelayMs * 2 ** (failures - 1)) * (0.5 + 0.5 * b.random()));
      const delayMs = Math.max(backoffMs, retryAfterMs(error));
      o.onRetry?.({ attempt: failures, delayMs, error, cursor });
      try {
        await b.delay(delayMs, signal);
      } catch (e) {
        throw signal.aborted ? abortError(signal) : toConnectError(e);
      }
    }
  } finally {
    for (const [s, f] of listeners) s.removeEventListener("abort", f);
    lease?.release();
  }
}

/** The server's `retry-after-ms` hint of an error, in milliseconds; 0 without one. @private */
function retryAfterMs(e: ConnectError): number {
  const ms = Number(e.metadata.get("retry-after-ms") ?? "");
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * Resolves after `ms` milliseconds; rejects with a ConnectError
 * (Code.Canceled, or the signal's reason) as soon as `signal` aborts.
 */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => Promise.reject(abortError(signal)));
}

/** A `resumed` (EPOCH_CHANGED) announcing the epoch of `e`. @private */
function epochChanged(e: StreamEvent): StreamEvent {
  return create(StreamEventSchema, {
    streamId: e.streamId,
    event: { case: "resumed", value: { outcome: ResumeOutcome.EPOCH_CHANGED, cursor: formatCursor({ epoch: e.epoch, seq: 0 }) } },
  });
}

/** @private */
function tryParseCursor(text: string): Cursor | undefined {
  try {
    return parseCursor(text);
  } catch {
    return undefined;
  }
}

/** Drops keys whose value is `undefined`, so they do not override defaults. @private */
function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
