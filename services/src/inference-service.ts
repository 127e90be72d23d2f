import { GenerateTrace } from "./generate-trace.js";
import type { ServicesMetrics } from "./metrics.js";
import { ev, type GenerateRequest, type InferenceService, type InteractRequest, isTerminal, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  createSecretScrubber,
  extractTrace,
  type SecretScrubber,
  scrubConnectError,
  scrubEvent,
  validateGenerateRequest,
} from "@airwave/proto/server";
import { createInputChannel, type InputQueue } from "./input-channel.js";
import type { InputChannel, Provider } from "./provider.js";
import { resolveModel } from "./resolve-model.js";

/**
 * Creates the `airwave.v1.InferenceService` implementation over a set of
 * providers and the routing file's model aliases (`o.aliases`).
 *
 * `Generate` and `Interact` share one pipeline: validate the request
 * (`validateGenerateRequest`) → resolve its provider and model
 * (`resolveModel`) → `provider.generate(req, model, signal, inputs)` →
 * {@link guardProviderStream}. `ctx.signal` (client cancel, `grpc-timeout`
 * deadline, server shutdown) is the provider's abort signal, so a cancelled
 * call aborts the upstream request at once.
 *
 * - `Generate(GenerateRequest)`: no input can reach the generation (the
 *   provider gets no InputChannel; an agent that needs input ends with
 *   `failed` FAILED_PRECONDITION, reason INPUT_UNAVAILABLE).
 * - `Interact(stream InteractRequest)`: the first message must be `start`
 *   (else Code.InvalidArgument); each later `input` message is delivered to
 *   the generation's InputChannel ({@link createInputChannel}: keyed by
 *   input_id, first answer wins, at most 64 unclaimed answers). A later
 *   `start`, or a message with nothing set, is ignored. Closing the request
 *   side means "no more input": the generation's pending waits reject with
 *   Code.FailedPrecondition. The response stream is Generate's.
 *
 * Errors raised before the first message: Code.InvalidArgument for a
 * malformed request (`validateGenerateRequest`, or one the provider cannot
 * map), Code.NotFound for an unknown provider or model (`resolveModel`),
 * and whatever the provider raises before `started` (e.g. Unavailable).
 * After `started` the call ends with OK after a terminal event; the stream is
 * held to the provider contract (see {@link guardProviderStream}).
 */
export function createInferenceService(
  providers: readonly Provider[],
  o: { aliases?: Readonly<Record<string, string>>; metrics?: ServicesMetrics } = {},
): ServiceImpl<typeof InferenceService> {
  /** The one pipeline of both methods. */
  async function* run(req: GenerateRequest, ctx: HandlerContext, inputs?: InputChannel): AsyncIterable<StreamEvent> {
    const end = o.metrics?.generation();
    const t = new GenerateTrace(extractTrace(ctx.requestHeader), ctx.method.name, req.model);
    try {
      validateGenerateRequest(req);
      const { provider, model } = resolveModel(req.model, providers, o.aliases);
      for await (const e of guardProviderStream(provider.generate(req, model, ctx.signal, inputs, t.context), ctx.signal)) {
        t.event(e);
        yield e;
      }
      end?.();
      t.end();
    } catch (e) {
      end?.(ConnectError.from(e).code);
      t.end(e);
      throw e;
    } finally {
      end?.(Code.Canceled); // the caller left before the end
      t.end(new ConnectError("the caller left", Code.Canceled));
    }
  }
  return {
    async *generate(req, ctx) {
      for await (const event of run(req, ctx)) yield { event };
    },
    async *interact(reqs, ctx) {
      const it = reqs[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.message.case !== "start") {
        throw new ConnectError("the first InteractRequest must be `start` (the GenerateRequest)", Code.InvalidArgument);
      }
      const inputs = createInputChannel();
      void feedInputs(it, inputs);
      try {
        for await (const event of run(first.value.message.value, ctx, inputs)) yield { event };
      } finally {
        inputs.close();
        // Stop reading the request side; not awaited: a pending read ends
        // with the call.
        try {
          void Promise.resolve(it.return?.()).catch(() => {});
        } catch {
          // already finished
        }
      }
    },
  };
}

/**
 * Reads the `input` messages of an Interact call into `inputs` until the
 * caller closes its side (or the call ends), then closes the channel.
 * Never rejects.
 */
async function feedInputs(it: AsyncIterator<InteractRequest>, inputs: InputQueue): Promise<void> {
  try {
    for (;;) {
      const r = await it.next();
      if (r.done || inputs.closed) return;
      const m = r.value.message;
      if (m.case === "input") inputs.answer(m.value.inputId, m.value.text);
    }
  } catch {
    // The call broke off or ended: no more input.
  } finally {
    inputs.close();
  }
}

/** Removes credential-shaped strings (no configured secrets). */
const shapesOnly = createSecretScrubber();

/**
 * Holds a provider's stream to the provider contract, so a buggy provider
 * cannot break the InferenceService contract:
 * - an error before anything was yielded passes through (a refused request);
 * - events after a terminal one are dropped;
 * - an error after `started` (other than an abort, which is rethrown) becomes
 *   `failed` INTERNAL, reason PROVIDER_ERROR, whose message says nothing of
 *   the error;
 * - a stream that ends without a terminal event gets `failed` INTERNAL,
 *   reason PROVIDER_INCOMPLETE;
 * - a last defensive scrub (`scrub`, default credential shapes only; the
 *   HTTP runtime already removed its configured keys): the message of an
 *   error passed through, and `started` and the terminal event
 *   (`scrubEvent`: request id, `failed` message, raw finish reason,
 *   provider metadata). Deltas pass unchanged.
 */
export async function* guardProviderStream(
  events: AsyncIterable<StreamEvent>,
  signal: AbortSignal,
  scrub: SecretScrubber = shapesOnly,
): AsyncIterable<StreamEvent> {
  let started = false;
  try {
    for await (const e of events) {
      started = true;
      const terminal = isTerminal(e);
      yield terminal || e.event.case === "started" ? scrubEvent(e, scrub) : e;
      if (terminal) return;
    }
  } catch (err) {
    if (!started || signal.aborted) throw scrubConnectError(err, scrub);
    yield ev.failed(Code.Internal, "internal error", "PROVIDER_ERROR", { retryable: false });
    return;
  }
  if (started) yield ev.failed(Code.Internal, "internal error", "PROVIDER_INCOMPLETE", { retryable: false });
  else throw new ConnectError("the provider produced no events", Code.Internal);
}
