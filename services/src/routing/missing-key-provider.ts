import type { GenerateRequest, StreamEvent } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { upstreamError } from "../http-provider/upstream-error.js";
import type { Provider } from "../provider.js";

/**
 * A configured provider whose key variable is not set: it is listed (so the
 * caller learns what is wrong rather than "unknown provider"), and each
 * request is refused before any upstream call with Code.FailedPrecondition,
 * reason UPSTREAM_AUTH (metadata `airwave-reason`), naming the variable the
 * operator must set — never a key.
 */
export function createMissingKeyProvider(o: {
  name: string;
  apiKeyEnv: string;
  models?: readonly string[] | undefined;
  defaultModel?: string | undefined;
}): Provider {
  return {
    name: o.name,
    models: o.models,
    defaultModel: o.defaultModel,
    // biome-ignore lint/correctness/useYield: it fails before any event, as a provider without its key must
    async *generate(_req: GenerateRequest, _model: string, signal: AbortSignal): AsyncIterable<StreamEvent> {
      signal.throwIfAborted();
      throw upstreamError(
        `the ${o.name} provider has no API key: the inference service's environment variable ${o.apiKeyEnv} is not set`,
        Code.FailedPrecondition,
        "UPSTREAM_AUTH",
      );
    },
  };
}
