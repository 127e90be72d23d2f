import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import {
  delay,
  ev,
  FinishReason,
  type GenerateRequest,
  type InputRequested,
  type InteractRequest,
  InteractRequestSchema,
  isTerminal,
  type StreamEvent,
  type Usage,
} from "@airwave/proto";
import { createSecretScrubber, eventLoopSlice, scrubConnectError, scrubEvent, type SecretScrubber } from "@airwave/proto/server";
import { refusalForClient } from "../errors/upstream-refusal.js";
import type { InferenceClient } from "../grpc-inference-client.js";
import type { StreamLog } from "../log/stream-log.js";
import { type GenerationLimits, type LivenessReason, LivenessTimers } from "./liveness-timers.js";

/** The `airwave-reason` of the failure that ends a generation whose log could not take its events. */
export const LOG_UNAVAILABLE = "LOG_UNAVAILABLE";

/** Between two tries to append the terminal event to an unreachable log, in ms. */
const logRetryMs = 1_000;

/** The default scrubber of {@link Generation}: credential shapes, no configured secret. */
const credentialShapesOnly = createSecretScrubber();

/** Why a generation was cancelled, for logs and metrics. */
export type CancelSource = "client" | "detach" | "shutdown";

/**
 * One upstream call (InferenceService.Interact) pumped into a stream's log.
 * The call's request side carries the GenerateRequest (`start`), then the
 * answers passed to {@link sendInput}; it ends when the generation ends.
 *
 * The pump never waits on watchers: the log decouples them. It
 * guarantees exactly one terminal event in the log:
 * - the upstream's own;
 * - `completed(CANCELLED)` with the last usage reported after {@link cancel}
 *   (client or detach);
 * - `failed(UNAVAILABLE, GATEWAY_SHUTDOWN, retryable)` when the gateway shuts
 *   down before the end;
 * - `failed(DEADLINE_EXCEEDED)` with reason FIRST_TOKEN_TIMEOUT,
 *   STALL_TIMEOUT or GENERATION_TIMEOUT (see {@link GenerationLimits},
 *   {@link LivenessTimers}); the upstream call is aborted;
 * - `failed(UNAVAILABLE)` when the upstream breaks off
 *   (`INFERENCE_STREAM_BROKEN`) or ends without a terminal event
 *   (`UPSTREAM_TRUNCATED`);
 * - `failed(UNAVAILABLE, LOG_UNAVAILABLE, retryable)` when the log could not
 *   take an event (a shared log's store unreachable past its retry budget):
 *   the upstream call is aborted, and this terminal event is appended as
 *   soon as the store is back (retried every second until then, or until
 *   shutdown).
 * Failures carry the last usage reported. Internal error text never reaches
 * the log, and the upstream's text that does (the `started` request id, the
 * terminal event's message, refusal messages) is scrubbed of the gateway's
 * secrets first (see the constructor's `scrub`). A refusal before the
 * first event becomes the client's error by {@link refusalForClient}.
 */
export class Generation {
  readonly #life = new AbortController();
  readonly #shutdown: AbortSignal;
  readonly #timers: LivenessTimers;
  readonly #scrub: SecretScrubber;
  #cancelSource: CancelSource | undefined;
  /** When the call was aborted (cancel, deadline, shutdown), in ms since the epoch; 0 before. */
  #stoppedAtMs = 0;
  #timeout: { reason: LivenessReason; message: string } | undefined;
  #lastUsage: Usage | undefined;
  /** Set when the log refused an event for a reason other than its end (its store is unreachable). */
  #logFailed = false;
  #sawContent = false;
  #running = true;
  /**
   * The request side of the Interact call, in order: one `start`, then at
   * most one answer per logged `input_requested` (so unbounded is bounded
   * in use). Ends once closed and drained. connect's own writable iterable,
   * not the `PushQueue` of `@airwave/proto`: connect transports (the
   * `InferenceClient` may be a connect-es client) call `throw()` on a
   * request iterator, which `PushQueue`'s does not have.
   */
  readonly #requests = createWritableIterable<InteractRequest>();
  /** Set when {@link #requests} is closed: nothing more is sent. */
  #requestsClosed = false;
  /** Inputs requested in the log and not yet answered there, by input_id. */
  readonly #requested = new Map<string, InputRequested>();
  /** Of those, the ones whose answer was passed on (its `input_answered` is awaited). */
  readonly #forwarded = new Set<string>();
  /** Inputs whose `input_answered` is in the log. */
  readonly #answered = new Set<string>();
  /**
   * Resolves when the upstream accepted the request (its first event is in
   * the log); rejects with the upstream's ConnectError when it refused the
   * request before any event (INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE,
   * DEADLINE_EXCEEDED, …).
   */
  readonly accepted: Promise<void>;
  /** Resolves when the pump has stopped, the log has its terminal event and no timer is left. */
  readonly done: Promise<void>;

  /**
   * Starts the upstream call at once.
   *
   * @param limits liveness limits, in ms.
   * @param shutdown aborts every generation (gateway shutdown).
   * @param scrub removes the gateway's own secrets (API keys, cookie secret)
   * and credential-shaped strings from what the inference service sends:
   * the `started` request id and the terminal event's text (`scrubEvent`),
   * and the messages of its refusals; default credential shapes only.
   * @param hooks `onAppended`: called with each event once it is in the
   * log (metrics, traces); `headers`: request headers of the upstream call
   * (the trace context).
   */
  constructor(
    upstream: InferenceClient,
    request: GenerateRequest,
    private readonly log: StreamLog,
    limits: GenerationLimits,
    shutdown: AbortSignal,
    scrub: SecretScrubber = credentialShapesOnly,
    private readonly hooks: { readonly onAppended?: (e: StreamEvent) => void; readonly headers?: Record<string, string> } = {},
  ) {
    let accept!: () => void;
    let refuse!: (e: ConnectError) => void;
    this.accepted = new Promise<void>((res, rej) => {
      accept = res;
      refuse = rej;
    });
    this.accepted.catch(() => {});
    this.#shutdown = shutdown;
    this.#scrub = scrub;
    const signal = AbortSignal.any([this.#life.signal, shutdown]);
    this.#timers = new LivenessTimers(limits, (reason, message) => this.#expire(reason, message));
    this.#send(create(InteractRequestSchema, { message: { case: "start", value: request } }));
    if (signal.aborted) this.#closeRequests();
    else
      signal.addEventListener(
        "abort",
        () => {
          this.#stoppedAtMs = Date.now();
          this.#closeRequests();
        },
        { once: true },
      );
    const call = upstream.interact(this.#requests, {
      signal,
      ...(limits.timeoutMs > 0 ? { timeoutMs: limits.timeoutMs } : {}),
      ...(hooks.headers ? { headers: hooks.headers } : {}),
    });
    this.done = this.#pump(call, accept, refuse);
  }

  /** True until the log has its terminal event (or the request was refused). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * The inputs the generation waits for and that nobody answered yet, by
   * input_id: requested in the log, not answered there, and not passed on
   * by {@link sendInput}. Derived from the logged events as they are
   * appended, so it does not depend on watchers or on the log's retention.
   */
  get pendingInputs(): ReadonlyMap<string, InputRequested> {
    const out = new Map<string, InputRequested>();
    for (const [id, r] of this.#requested) if (!this.#forwarded.has(id)) out.set(id, r);
    return out;
  }

  /** True when `inputId` was answered (passed on, or its `input_answered` is logged). */
  wasAnswered(inputId: string): boolean {
    return this.#forwarded.has(inputId) || this.#answered.has(inputId);
  }

  /**
   * Passes the answer to a pending input to the generation, on the
   * Interact call's request side. The caller checks the answer first
   * (Hub.sendInput). Returns false, and sends nothing, when the input is
   * not pending (unknown or already answered) or the generation ended:
   * exactly one answer per input is passed on.
   */
  sendInput(inputId: string, text: string): boolean {
    if (!this.#running || this.log.ended || this.#requestsClosed) return false;
    if (!this.#requested.has(inputId) || this.#forwarded.has(inputId)) return false;
    this.#forwarded.add(inputId);
    this.#send(create(InteractRequestSchema, { message: { case: "input", value: { inputId, text } } }));
    return true;
  }

  /**
   * Queues a message on the request side. The write's promise (settled
   * when the call reads the message, rejected once the call stopped
   * reading) is not awaited: a call that left has no use for the message.
   */
  #send(m: InteractRequest): void {
    if (this.#requestsClosed) return;
    this.#requests.write(m).catch(() => {});
  }

  /** Ends the request side once the call has read what was queued. */
  #closeRequests(): void {
    this.#requestsClosed = true;
    this.#requests.close();
  }

  /** Why the generation was cancelled, once it was. */
  get cancelSource(): CancelSource | undefined {
    return this.#cancelSource;
  }

  /** Why and when the generation was stopped before its end (a cancel, a liveness deadline, the shutdown); undefined otherwise. */
  get stopped(): { source: CancelSource | "deadline"; atMs: number } | undefined {
    const source = this.#cancelSource ?? (this.#timeout ? "deadline" : this.#shutdown.aborted ? "shutdown" : undefined);
    return source && this.#stoppedAtMs > 0 ? { source, atMs: this.#stoppedAtMs } : undefined;
  }

  /**
   * Aborts the upstream call at once (the abort reaches the provider's
   * `fetch`); the log ends with `completed(FINISH_REASON_CANCELLED)` and the
   * last usage reported. Idempotent; no effect after the end.
   */
  cancel(source: CancelSource): void {
    if (this.log.ended || this.#life.signal.aborted) return;
    this.#cancelSource = source;
    this.#life.abort(new ConnectError(`cancelled (${source})`, Code.Canceled));
  }

  /** A liveness limit passed: abort the upstream; the pump logs the failure. */
  #expire(reason: LivenessReason, message: string): void {
    if (this.log.ended || this.#life.signal.aborted) return;
    this.#timeout = { reason, message };
    this.#life.abort(new ConnectError(message, Code.DeadlineExceeded));
  }

  async #pump(
    events: AsyncIterable<{ event?: StreamEvent | undefined }>,
    accept: () => void,
    refuse: (e: ConnectError) => void,
  ): Promise<void> {
    let first = true;
    // A burst of events that arrived in one read is appended (and written
    // to every watcher) in slices, so one fast stream cannot hold the loop.
    const slice = eventLoopSlice();
    try {
      for await (const { event } of events) {
        if (!event || event.event.case === undefined || event.event.case === "heartbeat") continue;
        if (event.event.case === "resumed") continue; // not a generation event
        if (this.#life.signal.aborted || this.#shutdown.aborted) break; // the end is decided; see below
        const kind = event.event.case;
        if (first && kind === "started") event.event.value.streamId = this.log.streamId;
        if (kind === "started" || isTerminal(event)) scrubEvent(event, this.#scrub);
        if (kind === "usage") this.#lastUsage = event.event.value;
        try {
          await this.log.append(event);
        } catch (e) {
          this.#logFailed = !this.log.ended;
          throw e;
        }
        this.hooks.onAppended?.(event);
        if (first) {
          first = false;
          accept();
        }
        if (isTerminal(event)) return;
        if (event.event.case === "inputRequested") this.#requested.set(event.event.value.inputId, event.event.value);
        if (event.event.case === "inputAnswered") {
          this.#requested.delete(event.event.value.inputId);
          this.#answered.add(event.event.value.inputId);
        }
        if (kind !== "started" && kind !== "usage") this.#sawContent = true;
        // Waiting for a human is not a stall: no stall timer while an input is pending.
        if (this.#sawContent) this.#timers.progressed(this.#requested.size > 0);
        await slice();
      }
      if (!this.#life.signal.aborted && !this.#shutdown.aborted) {
        if (first) {
          refuse(new ConnectError("the inference service returned no events", Code.Unavailable));
          return;
        }
        await this.#endWith(ev.failed(Code.Unavailable, "the model stream ended early", "UPSTREAM_TRUNCATED", this.#usage()));
        return;
      }
      await this.#endAborted(first, refuse, undefined);
    } catch (err) {
      await this.#endAborted(first, refuse, ConnectError.from(err));
    } finally {
      this.#closeRequests();
      this.#timers.clear();
      if (first && !this.log.ended) {
        // Refused before any event; nothing is logged. Keep the log consistent
        // for anyone who raced to watch it.
        await this.log.append(ev.failed(Code.Unavailable, "the stream could not start", "NOT_STARTED")).catch(() => {});
      }
      this.#running = false;
    }
  }

  /** Ends a pump that stopped on an error or an abort (cancel, timeout, shutdown). */
  async #endAborted(first: boolean, refuse: (e: ConnectError) => void, e: ConnectError | undefined): Promise<void> {
    if (this.#shutdown.aborted && !this.#cancelSource && !this.#timeout) this.#cancelSource = "shutdown";
    if (first) {
      if (this.#timeout) refuse(new ConnectError(this.#timeout.message, Code.DeadlineExceeded));
      else if (this.#cancelSource === "shutdown") refuse(new ConnectError("the gateway is shutting down", Code.Unavailable));
      else if (this.#cancelSource) refuse(new ConnectError("cancelled", Code.Canceled));
      else
        refuse(
          scrubConnectError(
            refusalForClient(e ?? new ConnectError("the inference service stream broke off", Code.Unavailable)),
            this.#scrub,
          ),
        );
      return;
    }
    if (this.#logFailed) {
      await this.#endWhenLogIsBack(
        ev.failed(Code.Unavailable, "the stream log was unreachable; retry", LOG_UNAVAILABLE, { retryable: true, ...this.#usage() }),
      );
    } else if (this.#timeout) {
      await this.#endWith(ev.failed(Code.DeadlineExceeded, this.#timeout.message, this.#timeout.reason, this.#usage()));
    } else if (this.#cancelSource === "shutdown") {
      await this.#endWith(
        ev.failed(Code.Unavailable, "the gateway is shutting down; retry", "GATEWAY_SHUTDOWN", { retryable: true, ...this.#usage() }),
      );
    } else if (this.#cancelSource) {
      const usage = this.#lastUsage;
      await this.#endWith(ev.completed(FinishReason.CANCELLED, usage && { ...usage }, "cancelled"));
    } else if (e?.code === Code.DeadlineExceeded) {
      await this.#endWith(ev.failed(Code.DeadlineExceeded, "the generation took too long", "GENERATION_TIMEOUT", this.#usage()));
    } else {
      await this.#endWith(ev.failed(Code.Unavailable, "the inference service stream broke off", "INFERENCE_STREAM_BROKEN", this.#usage()));
    }
  }

  #usage(): { usage?: Usage } {
    return this.#lastUsage ? { usage: { ...this.#lastUsage } } : {};
  }

  async #endWith(e: StreamEvent): Promise<void> {
    if (!this.log.ended) await this.log.append(e);
  }

  /** Appends the terminal event once the log takes it again: retried every second until then, or until shutdown. */
  async #endWhenLogIsBack(e: StreamEvent): Promise<void> {
    while (!this.log.ended) {
      try {
        await this.log.append(e);
        return;
      } catch (err) {
        if (this.log.ended || this.#shutdown.aborted || ConnectError.from(err).code === Code.FailedPrecondition) return;
        await delay(logRetryMs, this.#shutdown).catch(() => {});
      }
    }
  }
}
