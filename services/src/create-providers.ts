import type { Sleep } from "@airwave/proto";
import type { ServicesConfig } from "./config.js";
import type { Provider } from "./provider.js";
import { createRouting } from "./routing/create-routing.js";

/**
 * Creates the providers a configuration enables (the providers of
 * `createRouting`, without the aliases):
 * - `simulator`, always, paced by `simTtftMs` and `simTokensPerS`;
 * - `openai-compatible` (kind `openai-chat`), when `openaiBaseUrl` is set
 *   (any server, key optional: Ollama, vLLM and llama.cpp need none) or
 *   `openaiApiKey` is set (then the base URL is https://api.openai.com/v1).
 *   With neither, it is not configured, and a request for it is NOT_FOUND
 *   with a setup hint;
 * - `anthropic`, `gemini`, `ollama` from `ANTHROPIC_API_KEY`,
 *   `GEMINI_API_KEY`, `OLLAMA_HOST`;
 * - every provider of the routing file (`AIRWAVE_PROVIDERS_FILE`).
 *
 * Every HTTP provider goes through `createHttpProvider`. Raises what
 * `createRouting` raises (an invalid routing file).
 *
 * @param o.sleep - the simulator's pacing sleep (tests inject one).
 * @param o.env - where `apiKeyEnv` variables are read; default `process.env`.
 */
export function createProviders(
  config: ServicesConfig,
  o: { sleep?: Sleep; env?: Readonly<Record<string, string | undefined>> } = {},
): Provider[] {
  return createRouting(config, o).providers;
}
