import { Code, ConnectError } from "@connectrpc/connect";
import type { Provider } from "./provider.js";

/** A model string resolved to the provider that serves it. */
export interface ResolvedModel {
  /** The provider named by the model string. */
  readonly provider: Provider;
  /** The model, without the provider prefix (the provider's default for a bare provider name). */
  readonly model: string;
}

/**
 * Providers that exist but need configuration, with the hint shown when a
 * request names one that is not configured.
 */
const setupHints: Readonly<Record<string, string>> = {
  "openai-compatible": "set OPENAI_BASE_URL (or OPENAI_API_KEY for https://api.openai.com/v1)",
  anthropic: "set ANTHROPIC_API_KEY, or add it to the routing file AIRWAVE_PROVIDERS_FILE",
  gemini: "set GEMINI_API_KEY, or add it to the routing file AIRWAVE_PROVIDERS_FILE",
  ollama: "set OLLAMA_HOST, or add it to the routing file AIRWAVE_PROVIDERS_FILE",
};

/**
 * Resolves `GenerateRequest.model` — `"<provider>/<model>"` (the model part
 * may itself contain slashes: `"openai-compatible/meta-llama/Llama-3.1-8B"`),
 * a bare provider name for its default model (`"simulator"`), or an alias
 * from the routing file (`"fast"` → `"anthropic/claude-haiku-4-5"`; a bare
 * name is looked up among the aliases first).
 *
 * Raises a ConnectError with
 * - Code.NotFound for an unknown or unconfigured provider (the message lists
 *   the available providers and aliases, and says how to configure a known
 *   one), or a model the provider does not list in `Provider.models`;
 * - Code.InvalidArgument for a bare provider name when the provider has no
 *   default model, or an empty model part (`"simulator/"`).
 *
 * @param aliases - bare model name → `"<provider>/<model>"`; default none.
 */
export function resolveModel(spec: string, providers: readonly Provider[], aliases: Readonly<Record<string, string>> = {}): ResolvedModel {
  if (!spec.includes("/") && Object.hasOwn(aliases, spec)) return resolveModel(aliases[spec] as string, providers);
  const slash = spec.indexOf("/");
  const name = slash < 0 ? spec : spec.slice(0, slash);
  const provider = providers.find((p) => p.name === name);
  const aliasNames = Object.keys(aliases);
  const available =
    (providers.map((p) => p.name).join(", ") || "none") + (aliasNames.length > 0 ? `; aliases: ${aliasNames.slice(0, 32).join(", ")}` : "");
  if (!provider) {
    const hint = setupHints[name];
    throw new ConnectError(
      hint
        ? `provider "${name}" is not configured (${hint}); available providers: ${available}`
        : `unknown provider "${name.slice(0, 64)}" in model "${spec.slice(0, 128)}"; available providers: ${available}`,
      Code.NotFound,
    );
  }
  const model = slash < 0 ? provider.defaultModel : spec.slice(slash + 1);
  if (model === undefined) {
    throw new ConnectError(`provider "${name}" has no default model: use "${name}/<model>"`, Code.InvalidArgument);
  }
  if (model === "") throw new ConnectError(`model "${spec}": the model after "/" is empty`, Code.InvalidArgument);
  if (provider.models && !provider.models.includes(model)) {
    throw new ConnectError(`unknown model "${spec.slice(0, 128)}"; ${name} models: ${provider.models.join(", ")}`, Code.NotFound);
  }
  return { provider, model };
}
