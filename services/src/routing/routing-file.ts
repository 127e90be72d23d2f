import type { UpstreamLimits } from "../http-provider/upstream-limits.js";

/**
 * One provider in a routing file (`providers.<name>`). Keys are never in
 * the file: `apiKeyEnv` names the environment variable that holds it.
 *
 * @example
 * ```json
 * { "kind": "anthropic", "apiKeyEnv": "ANTHROPIC_API_KEY", "defaultModel": "claude-sonnet-4-5",
 *   "headers": { "anthropic-beta": "interleaved-thinking-2025-05-14" }, "limits": { "firstByteTimeoutMs": 120000 } }
 * ```
 */
export interface ProviderEntry {
  /** The protocol: a key of `providerSpecs` (`openai-chat`, `openai-responses`, `anthropic`, `gemini`, `tgi`, `ollama`). */
  readonly kind: string;
  /** Base URL (http or https, no trailing slash); default per kind (`defaultBaseUrls`); required for `tgi`. */
  readonly baseUrl?: string | undefined;
  /** The NAME of the environment variable holding the API key (e.g. `"GROQ_API_KEY"`); none = no key. */
  readonly apiKeyEnv?: string | undefined;
  /** Extra request headers (never credentials: `authorization`, `x-api-key`, … are refused). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Kind-specific options, passed to the spec as `ProviderEndpoint.options`. */
  readonly options?: Readonly<Record<string, unknown>> | undefined;
  /** The models served; any name when absent (the upstream decides). */
  readonly models?: readonly string[] | undefined;
  /** The model for a bare provider name; must be in `models` when both are given. */
  readonly defaultModel?: string | undefined;
  /** Overrides of the environment's upstream limits, for this provider. */
  readonly limits?: Partial<UpstreamLimits> | undefined;
}

/**
 * A routing file (env `AIRWAVE_PROVIDERS_FILE`): the providers one inference
 * service serves, by name (the `<provider>` prefix of
 * `GenerateRequest.model`), and aliases — bare model names standing for a
 * `<provider>/<model>`.
 *
 * @example
 * ```json
 * {
 *   "providers": {
 *     "anthropic": { "kind": "anthropic", "apiKeyEnv": "ANTHROPIC_API_KEY" },
 *     "groq": { "kind": "openai-chat", "baseUrl": "https://api.groq.com/openai/v1", "apiKeyEnv": "GROQ_API_KEY" }
 *   },
 *   "aliases": { "fast": "anthropic/claude-haiku-4-5" }
 * }
 * ```
 */
export interface RoutingFile {
  readonly providers: Readonly<Record<string, ProviderEntry>>;
  readonly aliases: Readonly<Record<string, string>>;
}
