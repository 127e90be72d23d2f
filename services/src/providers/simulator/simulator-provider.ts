import { delay, type GenerateRequest, type Sleep, type StreamEvent } from "@airwave/proto";
import type { Provider } from "../../provider.js";
import { isToken, simulate } from "./simulate.js";
import { parseSimulatorMetadata } from "./simulator-metadata.js";

/** Pacing of the simulator: how long until the first token, and how fast the rest follow. */
export interface SimulatorPacing {
  /** Time to first token, in milliseconds. */
  readonly ttftMs: number;
  /** Output pace in tokens per second; 0 means unpaced (as fast as the consumer reads). */
  readonly tokensPerS: number;
}

/** Options of {@link createSimulatorProvider}. */
export interface SimulatorProviderOptions {
  /** Pacing of `simulator/default` (and a bare `"simulator"`); default 350 ms and 40 tokens/s (env `AIRWAVE_SIM_TTFT_MS`, `AIRWAVE_SIM_TOKENS_PER_S` via `loadConfig`). */
  readonly pacing?: SimulatorPacing;
  /** The abortable sleep used for pacing; default {@link delay}. Tests inject fake or zero delays. */
  readonly sleep?: Sleep;
}

/**
 * The simulator's models and their pacing: `default` uses the configured
 * pacing, `fast` is unpaced (tests, benchmarks), `slow` is a slow model
 * (1.5 s to first token, 8 tokens/s) for trying out cancel and resume.
 */
export const simulatorModels = ["default", "fast", "slow"] as const;

/**
 * Creates the `simulator` provider: the embedded default model. Its output is
 * {@link simulate}(request) — deterministic for a seed and built from the
 * prompt — paced like a real model: `started` at once, the first output event
 * after the time to first token, each further token after `1000 / tokensPerS`
 * milliseconds. `metadata["simulator.ttft_ms"]` and
 * `metadata["simulator.tokens_per_s"]` override the model's pacing per request.
 *
 * `generate` raises a ConnectError with Code.InvalidArgument for malformed
 * `simulator.*` metadata (before anything is yielded). When the signal
 * aborts, it stops at once and throws the signal's reason.
 */
export function createSimulatorProvider(o: SimulatorProviderOptions = {}): Provider {
  const pacing = o.pacing ?? { ttftMs: 350, tokensPerS: 40 };
  const sleep = o.sleep ?? delay;
  const models: Record<string, SimulatorPacing> = {
    default: pacing,
    fast: { ttftMs: 0, tokensPerS: 0 },
    slow: { ttftMs: 1500, tokensPerS: 8 },
  };
  return {
    name: "simulator",
    defaultModel: "default",
    models: simulatorModels,
    async *generate(req: GenerateRequest, model: string, signal: AbortSignal): AsyncIterable<StreamEvent> {
      signal.throwIfAborted();
      const meta = parseSimulatorMetadata(req.metadata);
      const base = models[model] ?? pacing;
      const ttftMs = meta.ttftMs ?? base.ttftMs;
      const tokensPerS = meta.tokensPerS ?? base.tokensPerS;
      const intervalMs = tokensPerS > 0 ? 1000 / tokensPerS : 0;
      let first = true;
      for (const e of simulate(req, { model })) {
        const output = e.event.case !== "started";
        const wait = output && first ? ttftMs : isToken(e) ? intervalMs : 0;
        if (output) first = false;
        if (wait > 0) await sleep(wait, signal);
        signal.throwIfAborted();
        yield e;
      }
    },
  };
}
