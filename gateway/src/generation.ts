import { Code, ConnectError } from "@connectrpc/connect";
import { type Client } from "@connectrpc/connect";
import {
  ev,
  FinishReason,
  type GenerateRequest,
  type InferenceService,
  isTerminal,
  type StreamEvent,
  type Usage,
} from "@airwave/proto";
import type { StreamLog } from "./log/stream-log.js";

/** Why a generation was cancelled, for logs and metrics. */
export type CancelSource = "client" | "detach" | "shutdown";

/**
 * One upstream call (InferenceService.Generate) pumped into a stream's log.
 *
 * The pump never waits on watchers: the log decouples them (DESIGN §6). It
 * guarantees exactly one terminal event in the log: the upstream's own, or
 * `completed(CANCELLED)` after {@link cancel}, or `failed` when the upstream
 * breaks off (UNAVAILABLE, reason `INFERENCE_STREAM_BROKEN`) or ends without
 * a terminal event (UNAVAILABLE, `UPSTREAM_TRUNCATED`). Internal error text
 * never reaches the log.
 */
export class Generation {
  readonly #life = new AbortController();
  readonly #shutdown: AbortSignal;
  #cancelSource: CancelSource | undefined;
  #lastUsage: Usage | undefined;
  /**
   * Resolves when the upstream accepted the request (its first event is in
   * the log); rejects with the upstream's ConnectError when it refused the
   * request before any event (INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, …).
   */
  readonly accepted: Promise<void>;
  /** Resolves when the pump has stopped and the log has its terminal event. */
  readonly done: Promise<void>;

  /**
   * Starts the upstream call at once.
   *
   * @param timeoutMs total deadline of the upstream call, in ms.
   * @param shutdown aborts every generation (gateway shutdown).
   */
  constructor(
    upstream: Client<typeof InferenceService>,
    request: GenerateRequest,
    private readonly log: StreamLog,
    timeoutMs: number,
    shutdown: AbortSignal,
  ) {
    let accept!: () => void;
    let refuse!: (e: ConnectError) => void;
    this.accepted = new Promise<void>((res, rej) => {
      accept = res;
      refuse = rej;
    });
    this.accepted.catch(() => {});
    this.#shutdown = shutdown;
    const signal = AbortSignal.any([this.#life.signal, shutdown]);
    this.done = this.#pump(upstream.generate(request, { signal, timeoutMs }), accept, refuse);
  }

  /** Why the generation was cancelled, once it was. */
  get cancelSource(): CancelSource | undefined {
    return this.#cancelSource;
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

  async #pump(
    events: AsyncIterable<{ event?: StreamEvent | undefined }>,
    accept: () => void,
    refuse: (e: ConnectError) => void,
  ): Promise<void> {
    let first = true;
    try {
      for await (const { event } of events) {
        if (!event || event.event.case === undefined || event.event.case === "heartbeat") continue;
        if (event.event.case === "resumed") continue; // not a generation event
        if (first && event.event.case === "started") event.event.value.streamId = this.log.streamId;
        if (event.event.case === "usage") this.#lastUsage = event.event.value;
        this.log.append(event);
        if (first) {
          first = false;
          accept();
        }
        if (isTerminal(event)) return;
      }
      if (first) {
        refuse(new ConnectError("the inference service returned no events", Code.Unavailable));
        return;
      }
      this.#endWith(ev.failed(Code.Unavailable, "the model stream ended early", "UPSTREAM_TRUNCATED"));
    } catch (err) {
      const e = ConnectError.from(err);
      if (this.#shutdown.aborted) this.#cancelSource ??= "shutdown";
      if (first) {
        refuse(this.#cancelSource ? new ConnectError("cancelled", Code.Canceled) : refusalForClient(e));
        return;
      }
      if (this.#cancelSource) {
        const usage = this.#lastUsage;
        this.#endWith(ev.completed(FinishReason.CANCELLED, usage && { ...usage }, "cancelled"));
      } else if (e.code === Code.DeadlineExceeded) {
        this.#endWith(ev.failed(Code.DeadlineExceeded, "the generation took too long", "GENERATION_TIMEOUT"));
      } else {
        this.#endWith(ev.failed(Code.Unavailable, "the inference service stream broke off", "INFERENCE_STREAM_BROKEN"));
      }
    } finally {
      if (first) {
        // Refused before any event; nothing is logged. Keep the log consistent
        // for anyone who raced to watch it.
        if (!this.log.ended) this.log.append(ev.failed(Code.Unavailable, "the stream could not start", "NOT_STARTED"));
      }
    }
  }

  #endWith(e: StreamEvent): void {
    if (!this.log.ended) this.log.append(e);
  }
}

/**
 * The error a client may see for an upstream refusal: validation and
 * not-found messages come from our own services and are kept; anything else
 * is reduced to its code with a generic text (never leak internals).
 */
function refusalForClient(e: ConnectError): ConnectError {
  switch (e.code) {
    case Code.InvalidArgument:
    case Code.NotFound:
    case Code.ResourceExhausted:
    case Code.FailedPrecondition:
    case Code.PermissionDenied:
    case Code.OutOfRange:
      return new ConnectError(e.rawMessage, e.code);
    case Code.Unavailable:
      return new ConnectError("the inference service is unavailable", Code.Unavailable, undefined, undefined, e);
    case Code.DeadlineExceeded:
      return new ConnectError("the inference service did not answer in time", Code.DeadlineExceeded, undefined, undefined, e);
    default:
      return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }
}
