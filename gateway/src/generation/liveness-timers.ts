/** Liveness limits of one generation, in ms; 0 disables a limit. */
export interface GenerationLimits {
  /**
   * Total time from the request to the terminal event; also sent as the gRPC
   * deadline of the upstream call. Ends with `failed(DEADLINE_EXCEEDED,
   * GENERATION_TIMEOUT)`.
   */
  readonly timeoutMs: number;
  /**
   * Time from the request to the first content event (anything but
   * `started` and `usage`: text, reasoning, tool call, status, …), so it
   * covers connecting, queueing at the provider and its first token. Ends
   * with `failed(DEADLINE_EXCEEDED, FIRST_TOKEN_TIMEOUT)`.
   */
  readonly firstTokenTimeoutMs?: number;
  /**
   * Longest silence between two logged events after the first content
   * event. Heartbeats from the inference service do not count: this limit
   * measures the model's progress. It is paused while an input is pending
   * (an `input_requested` is logged and its `input_answered` is not):
   * waiting for a human is not a stall. Ends with `failed(DEADLINE_EXCEEDED,
   * STALL_TIMEOUT)`.
   */
  readonly stallTimeoutMs?: number;
}

/** The `failed` reason of each liveness limit. */
export type LivenessReason = "FIRST_TOKEN_TIMEOUT" | "STALL_TIMEOUT" | "GENERATION_TIMEOUT";

/**
 * The liveness timers of one generation (see {@link GenerationLimits}): the
 * total timer, and one timer that is first the first-token timer, then,
 * after the first content event, the stall timer. Re-arming the same limit
 * refreshes the one timer (`refresh()`: no new timer per event). Each fires
 * at most once, calling `expire` with its reason and a message safe to show.
 */
export class LivenessTimers {
  /** The first-token or stall timer (one at a time). */
  #liveness: ReturnType<typeof setTimeout> | undefined;
  /** What {@link #liveness} is armed for, and for how long. */
  #reason: LivenessReason | undefined;
  #ms = 0;
  #total: ReturnType<typeof setTimeout> | undefined;

  /** Arms the first-token and the total timers at once. */
  constructor(
    private readonly limits: GenerationLimits,
    private readonly expire: (reason: LivenessReason, message: string) => void,
  ) {
    this.#arm("FIRST_TOKEN_TIMEOUT", limits.firstTokenTimeoutMs ?? 0);
    if (limits.timeoutMs > 0) {
      this.#total = setTimeout(() => expire("GENERATION_TIMEOUT", "the generation took too long"), limits.timeoutMs);
    }
  }

  /**
   * An event after the first content was logged: (re)arms the stall timer,
   * or stops it while `inputPending` (waiting for a human is not a stall).
   */
  progressed(inputPending: boolean): void {
    this.#arm("STALL_TIMEOUT", inputPending ? 0 : (this.limits.stallTimeoutMs ?? 0));
  }

  /** Clears every timer (the generation ended). */
  clear(): void {
    clearTimeout(this.#liveness);
    clearTimeout(this.#total);
    this.#liveness = this.#total = undefined;
  }

  #arm(reason: "FIRST_TOKEN_TIMEOUT" | "STALL_TIMEOUT", ms: number): void {
    if (this.#liveness && ms > 0 && this.#reason === reason && this.#ms === ms) {
      this.#liveness.refresh();
      return;
    }
    clearTimeout(this.#liveness);
    this.#liveness = undefined;
    if (ms <= 0) return;
    this.#reason = reason;
    this.#ms = ms;
    const message = reason === "FIRST_TOKEN_TIMEOUT" ? `no answer from the model within ${ms} ms` : `the model stalled for ${ms} ms`;
    this.#liveness = setTimeout(() => {
      this.#liveness = undefined; // fired: never refreshed back to life
      this.expire(reason, message);
    }, ms);
  }
}
