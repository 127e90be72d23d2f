import { ev, type InferenceService, isTerminal, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Provider } from "./provider.js";
import { resolveModel } from "./resolve-model.js";
import { validateGenerateRequest } from "./validate-generate-request.js";

/**
 * Creates the `airwave.v1.InferenceService` implementation over a set of
 * providers and the routing file's model aliases (`o.aliases`). `Generate`
 * validates the request, resolves its provider and model (`resolveModel`),
 * and streams the provider's events, using `ctx.signal` (client
 * cancel, `grpc-timeout` deadline, server shutdown) as the provider's abort
 * signal — so a cancelled call aborts the upstream request at once.
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
  o: { aliases?: Readonly<Record<string, string>> } = {},
): ServiceImpl<typeof InferenceService> {
  return {
    async *generate(req, ctx) {
      validateGenerateRequest(req);
      const { provider, model } = resolveModel(req.model, providers, o.aliases);
      for await (const event of guardProviderStream(provider.generate(req, model, ctx.signal), ctx.signal)) {
        yield { event };
      }
    },
    // TODO(issue 5): Interact with an InputChannel.
    async *interact(_reqs, _ctx) {
      yield* [];
      throw new ConnectError("Interact is not implemented yet", Code.Unimplemented);
    },
  };
}

/**
 * Holds a provider's stream to the provider contract, so a buggy provider
 * cannot break the InferenceService contract:
 * - an error before anything was yielded passes through (a refused request);
 * - events after a terminal one are dropped;
 * - an error after `started` (other than an abort, which is rethrown) becomes
 *   `failed` INTERNAL, reason PROVIDER_ERROR, whose message says nothing of
 *   the error;
 * - a stream that ends without a terminal event gets `failed` INTERNAL,
 *   reason PROVIDER_INCOMPLETE.
 */
export async function* guardProviderStream(events: AsyncIterable<StreamEvent>, signal: AbortSignal): AsyncIterable<StreamEvent> {
  let started = false;
  try {
    for await (const e of events) {
      started = true;
      yield e;
      if (isTerminal(e)) return;
    }
  } catch (err) {
    if (!started || signal.aborted) throw err;
    yield ev.failed(Code.Internal, "internal error", "PROVIDER_ERROR", { retryable: false });
    return;
  }
  if (started) yield ev.failed(Code.Internal, "internal error", "PROVIDER_INCOMPLETE", { retryable: false });
  else throw new ConnectError("the provider produced no events", Code.Internal);
}
