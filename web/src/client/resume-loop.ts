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

/** Options of {@link streamWithResume}. */
export interface ResumeOptions {
  /** Ends the stream locally (never the generation: use `cancel` for that); the iteration raises Code.Canceled. */
  readonly signal?: AbortSignal | undefined;
  /** The client-chosen stream id. @defaultValue `req.streamId`, else {@link newStreamId}() */
  readonly streamId?: string | undefined;
  /** Backoff between attempts. */
  readonly backoff?: BackoffOptions | undefined;
  /** Called before each wait for a retry, e.g. to show "reconnecting…". */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
}

/** The events of one stream, with the id it was created under (known before the first event). */
export interface ResumableStream extends AsyncIterable<StreamEvent> {
  /** The client-chosen stream id: what `cancel` and `get` take. */
  readonly streamId: string;
}

/** The defaults of {@link BackoffOptions}. */
export const defaultBackoff = { initialDelayMs: 250, maxDelayMs: 5_000, maxAttempts: 10 } as const;

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
 *   min(maxDelayMs, initialDelayMs·2ⁿ)·(½ + ½·random) and tries again, at most
 *   `maxAttempts` times in a row without progress (a new logged event or a
 *   heartbeat); then it raises the last error.
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
 * when `signal` aborts. Each iteration of the result is a separate watch of
 * the same stream.
 */
export function streamWithResume(
  transport: StreamTransport,
  req: CreateStreamRequest | MessageInitShape<typeof CreateStreamRequestSchema>,
  o: ResumeOptions = {},
): ResumableStream {
  const msg = isMessage(req, CreateStreamRequestSchema) ? clone(CreateStreamRequestSchema, req) : create(CreateStreamRequestSchema, req);
  const streamId = o.streamId ?? (msg.streamId !== "" ? msg.streamId : newStreamId());
  msg.streamId = streamId;
  return { streamId, [Symbol.asyncIterator]: () => resume(transport, msg, o) };
}

/** @private */
async function* resume(t: StreamTransport, req: CreateStreamRequest, o: ResumeOptions): AsyncGenerator<StreamEvent, void, undefined> {
  const signal = o.signal ?? new AbortController().signal;
  const b = { ...defaultBackoff, delay, random: Math.random, ...definedOnly(o.backoff ?? {}) };
  let cursor: Cursor | undefined;
  let failures = 0;
  for (;;) {
    if (signal.aborted) throw abortError(signal);
    // One controller per attempt: ending the attempt (terminal event, error,
    // consumer break) always releases its connection.
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let error: ConnectError;
    try {
      const events = cursor === undefined ? t.create(req, attempt.signal) : t.watch(req.streamId, cursor, attempt.signal);
      for await (const e of events) {
        switch (e.event.case) {
          case "heartbeat":
            failures = 0;
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
          failures = 0;
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
    const delayMs = Math.round(Math.min(b.maxDelayMs, b.initialDelayMs * 2 ** (failures - 1)) * (0.5 + 0.5 * b.random()));
    o.onRetry?.({ attempt: failures, delayMs, error, cursor });
    try {
      await b.delay(delayMs, signal);
    } catch (e) {
      throw signal.aborted ? abortError(signal) : toConnectError(e);
    }
  }
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
