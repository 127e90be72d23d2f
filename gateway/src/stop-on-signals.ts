/** Where termination signals come from: `process`, or a fake in tests. */
export interface SignalSource {
  on(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
}

/** Options of {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /** Stops everything gracefully; its rejection exits with 1. */
  stop: () => Promise<void>;
  /** Ends the process (`process.exit`). */
  exit: (code: number) => void;
  /**
   * Longest a graceful stop may take before the process exits with 1
   * anyway, in ms (the grace period plus a margin to close connections).
   */
  hardDeadlineMs: number;
  /** Reports progress (one line each); default: nothing. */
  log?: (line: string) => void;
}

/**
 * On the first SIGTERM or SIGINT, runs `stop` and exits with 0 when it
 * resolves (1 when it rejects, or when it is still running after
 * `hardDeadlineMs`); a second signal exits with 1 at once. Kubernetes sends
 * SIGTERM, then SIGKILL after `terminationGracePeriodSeconds`: keep
 * `hardDeadlineMs` below it.
 */
export function stopOnSignals(source: SignalSource, o: StopOnSignalsOptions): void {
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) {
      o.log?.(`${sig} again: exiting now`);
      o.exit(1);
      return;
    }
    stopping = true;
    o.log?.(`${sig}: shutting down gracefully`);
    const hard = setTimeout(() => {
      o.log?.(`graceful shutdown took longer than ${o.hardDeadlineMs} ms: exiting`);
      o.exit(1);
    }, o.hardDeadlineMs);
    hard.unref?.();
    o.stop().then(
      () => {
        clearTimeout(hard);
        o.exit(0);
      },
      (err: unknown) => {
        clearTimeout(hard);
        o.log?.(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        o.exit(1);
      },
    );
  };
  source.on("SIGTERM", () => onSignal("SIGTERM"));
  source.on("SIGINT", () => onSignal("SIGINT"));
}
