import { Code, ConnectError } from "@connectrpc/connect";
import { delay, type GenerateRequest, type Sleep, type StreamEvent } from "@airwave/proto";
import { eventLoopSlice } from "@airwave/proto/server";
import type { InputChannel, Provider } from "../../provider.js";
import { isToken, simulate } from "./simulate.js";
import { simulateAgent } from "./simulate-agent.js";
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
 * `agent` is a multi-agent run that asks the user a question and waits for
 * the answer ({@link simulateAgent}), paced like `default`.
 */
export const simulatorModels = ["default", "fast", "slow", "agent"] as const;

/** How long the simulated `web_search` takes, in token intervals (a `tool_result` waits this long). */
const toolLatencyTokens = 4;

/**
 * Creates the `simulator` provider: the embedded default model. Its output is
 * {@link simulate}(request) — deterministic for a seed and built from the
 * prompt — paced like a real model: `started` at once, the first output event
 * after the time to first token, each further token after `1000 / tokensPerS`
 * milliseconds. `metadata["simulator.ttft_ms"]` and
 * `metadata["simulator.tokens_per_s"]` override the model's pacing per request.
 * Unpaced (`tokens_per_s` 0), it still lets the event loop turn after every
 * {@link eventLoopSliceMs} of work (its consumer's included), so one request cannot monopolise the loop.
 *
 * Model `agent` runs {@link simulateAgent} with the same pacing (a
 * `tool_result` after {@link toolLatencyTokens} token intervals). Its
 * `input_requested` blocks until `inputs` has the answer, then the run goes
 * on with it. Without an InputChannel (plain `Generate`), or when the
 * channel closes before the answer came, the run ends with `failed`
 * FAILED_PRECONDITION, reason INPUT_UNAVAILABLE.
 *
 * `generate` raises a ConnectError with Code.InvalidArgument for malformed
 * `simulator.*` metadata (before anything is yielded). When the signal
 * aborts (also while waiting for input), it stops at once and throws the
 * signal's reason.
 */
export function createSimulatorProvider(o: SimulatorProviderOptions = {}): Provider {
  const pacing = o.pacing ?? { ttftMs: 350, tokensPerS: 40 };
  const sleep = o.sleep ?? delay;
  const models: Record<string, SimulatorPacing> = {
    default: pacing,
    fast: { ttftMs: 0, tokensPerS: 0 },
    slow: { ttftMs: 1500, tokensPerS: 8 },
    agent: pacing,
  };
  return {
    name: "simulator",
    defaultModel: "default",
    models: simulatorModels,
    async *generate(req: GenerateRequest, model: string, signal: AbortSignal, inputs?: InputChannel): AsyncIterable<StreamEvent> {
      signal.throwIfAborted();
      const meta = parseSimulatorMetadata(req.metadata);
      const base = models[model] ?? pacing;
      const ttftMs = meta.ttftMs ?? base.ttftMs;
      const tokensPerS = meta.tokensPerS ?? base.tokensPerS;
      const intervalMs = tokensPerS > 0 ? 1000 / tokensPerS : 0;
      let first = true;
      const slice = eventLoopSlice();
      /** Waits as a model would before `e` (or lets the loop turn after a slice of unpaced work), then hands it out. */
      const pace = async (e: StreamEvent): Promise<StreamEvent> => {
        const output = e.event.case !== "started";
        const wait =
          output && first ? ttftMs : isToken(e) ? intervalMs : e.event.case === "toolResult" ? toolLatencyTokens * intervalMs : 0;
        if (output) first = false;
        if (wait > 0) await sleep(wait, signal);
        else await slice();
        signal.throwIfAborted();
        return e;
      };
      if (model !== "agent") {
        for (const e of simulate(req, { model })) yield await pace(e);
        return;
      }
      const run = simulateAgent(req, { model });
      for (let r = run.next(); !r.done; ) {
        const e = r.value;
        yield await pace(e);
        r = run.next(e.event.case === "inputRequested" ? await answer(e.event.value.inputId, inputs, signal) : undefined);
      }
    },
  };
}

/**
 * The answer to `inputId`, or undefined when none can come (no channel, or
 * it closed). Rethrows an abort.
 */
async function answer(inputId: string, inputs: InputChannel | undefined, signal: AbortSignal): Promise<string | undefined> {
  if (!inputs) return undefined;
  try {
    return await inputs.wait(inputId, signal);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof ConnectError && err.code === Code.FailedPrecondition) return undefined;
    throw err;
  }
}
