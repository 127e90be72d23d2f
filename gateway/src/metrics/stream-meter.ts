import { ResumeOutcome, type StreamEvent } from "@airwave/proto";
import type { CancelSource } from "../generation/generation.js";
import type { GatewayMetrics, TokenTimes, Transport } from "./gateway-metrics.js";

/** The event kinds that carry the answer (what time to first token waits for). */
const tokenKinds = new Set<StreamEvent["event"]["case"]>(["textDelta", "reasoningDelta", "toolCallStarted", "toolCallDelta"]);

/** True for an event of the answer: text, reasoning, a tool call's start or arguments. */
export function isToken(e: StreamEvent): boolean {
  return tokenKinds.has(e.event.case);
}

/** A resume outcome as the `outcome` label: `recovered`, `trimmed`, `expired`, `epoch_changed`, `unknown_cursor`. */
export function resumeOutcomeName(o: ResumeOutcome): string {
  return ResumeOutcome[o]?.toLowerCase() ?? "unspecified";
}

/** Streams whose first token reached a client here (the `point="client"` time to first token is taken once per stream). */
const firstTokenOut = new WeakSet<object>();

/**
 * The metrics of one generation, fed by the hub: each event as it enters
 * the log (time to first token and inter-token latency at `point="log"`),
 * then its end (outcome, and the cancel with its source and duration).
 */
export class GenerationMeter {
  #provider = "other";
  #times: TokenTimes;
  #lastTokenMs = 0;

  constructor(
    private readonly m: GatewayMetrics,
    /** When the create call arrived, in ms since the epoch. */
    private readonly createdAtMs: number,
  ) {
    this.#times = m.tokenTimes(this.#provider);
  }

  get provider(): string {
    return this.#provider;
  }

  /** An event is in the log (`Generation`'s `onAppended`). */
  appended(e: StreamEvent): void {
    if (e.event.case === "started") {
      this.#provider = this.m.provider(e.event.value.provider);
      this.#times = this.m.tokenTimes(this.#provider);
      return;
    }
    if (!isToken(e)) return;
    const now = Date.now();
    if (this.#lastTokenMs === 0) this.#times.firstLog.observe((now - this.createdAtMs) / 1000);
    else this.#times.interLog.observe((now - this.#lastTokenMs) / 1000);
    this.#lastTokenMs = now;
  }

  /**
   * The generation ended with `terminal`; `stop` when it was stopped before
   * its end (a liveness deadline is `deadline`), with when, in ms since the epoch.
   */
  ended(terminal: StreamEvent | undefined, stop?: { source: CancelSource | "deadline"; atMs: number }): void {
    this.m.streamEnded(this.#provider, terminal);
    if (stop) this.m.cancelled(stop.source, Math.max(0, Date.now() - stop.atMs) / 1000);
  }
}

/**
 * The metrics of one watch: events delivered by kind, the first token to
 * leave for a client (once per stream), inter-token latency once the
 * watch caught up with the log, the resume outcome and duration, and the
 * error the watch ended with.
 */
export class WatchMeter {
  #times: TokenTimes;
  /** The stream's first token left (through this watch or another). */
  #firstDone = false;
  #lastTokenMs = 0;
  #live = false;
  #resume: { outcome: string; startMs: number } | undefined;

  constructor(
    private readonly m: GatewayMetrics,
    readonly transport: Transport,
    /** The stream record (local or a view): the once-per-stream mark is kept on it. */
    private readonly stream: { readonly createdAtMs: number },
    provider: string | undefined,
  ) {
    this.#times = m.tokenTimes(provider ?? "other");
    m.watchOpened(transport);
  }

  /** The watch resumed with `outcome` (snake_case); `replayTop` is the log's top then: events up to it are a replay. */
  resuming(outcome: string, replayTop: number, afterSeq: number): void {
    this.#resume = { outcome, startMs: Date.now() };
    if (replayTop <= afterSeq) this.#resumed(); // nothing to replay: the notice is the answer
  }

  /** An event is delivered; `top` is the log's top now. */
  delivered(e: StreamEvent, top: number): void {
    this.m.delivered(this.transport, e);
    if (this.#resume && e.event.case !== "resumed") this.#resumed();
    if (e.event.case === "started") this.#times = this.m.tokenTimes(this.m.provider(e.event.value.provider));
    if (isToken(e)) {
      const now = Date.now();
      if (!this.#firstDone) {
        this.#firstDone = true;
        if (!firstTokenOut.has(this.stream)) {
          firstTokenOut.add(this.stream);
          this.#times.firstClient.observe((now - this.stream.createdAtMs) / 1000);
        }
      } else if (this.#live && this.#lastTokenMs > 0) {
        this.#times.interClient.observe((now - this.#lastTokenMs) / 1000);
      }
      this.#lastTokenMs = now;
    }
    if (e.seq >= top) this.#live = true;
  }

  /** Events merged for this lagging watch. */
  coalesced(n: number): void {
    this.m.coalesced(n);
  }

  /** The watch ended (its error, if any, is counted where it is raised). */
  closed(): void {
    this.m.watchClosed(this.transport);
  }

  #resumed(): void {
    const r = this.#resume;
    if (!r) return;
    this.#resume = undefined;
    this.m.resumed(r.outcome, (Date.now() - r.startMs) / 1000);
  }
}
