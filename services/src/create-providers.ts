import type { ServicesConfig } from "./config.js";
import type { Sleep } from "@airwave/proto";
import type { Provider } from "./provider.js";
import { createOpenAICompatibleProvider } from "./providers/openai-compatible/openai-compatible-provider.js";
import { createSimulatorProvider } from "./providers/simulator/simulator-provider.js";

/**
 * Creates the providers a configuration enables:
 * - `simulator`, always, paced by `simTtftMs` and `simTokensPerS`;
 * - `openai-compatible`, when `openaiBaseUrl` is set (any server, key
 *   optional: Ollama, vLLM and llama.cpp need none) or `openaiApiKey` is set
 *   (then the base URL is https://api.openai.com/v1). With neither, it is
 *   not configured, and a request for it is NOT_FOUND with a setup hint.
 *
 * @param o.sleep - the simulator's pacing sleep (tests inject one).
 */
export function createProviders(config: ServicesConfig, o: { sleep?: Sleep } = {}): Provider[] {
  const providers: Provider[] = [
    createSimulatorProvider({
      pacing: { ttftMs: config.simTtftMs, tokensPerS: config.simTokensPerS },
      ...(o.sleep ? { sleep: o.sleep } : {}),
    }),
  ];
  if (config.openaiBaseUrl !== undefined || config.openaiApiKey !== undefined) {
    providers.push(
      createOpenAICompatibleProvider({
        baseUrl: config.openaiBaseUrl,
        apiKey: config.openaiApiKey,
        defaultModel: config.openaiDefaultModel,
      }),
    );
  }
  return providers;
}
