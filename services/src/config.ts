import { type Env, envNumber, envText, envUrl } from "@airwave/proto/server";
import { defaultUpstreamLimits, upstreamLimitRanges, type UpstreamLimits } from "./http-provider/upstream-limits.js";

/**
 * Settings of the inference service, read from the environment by
 * {@link loadConfig}. Every field has a documented default.
 */
export interface ServicesConfig {
  /** Interface to listen on. Env `AIRWAVE_SERVICES_HOST`; default `"127.0.0.1"`. */
  host: string;
  /** TCP port to listen on (0 = an ephemeral port). Env `AIRWAVE_SERVICES_PORT`; default `50051`. */
  port: number;
  /**
   * TCP port of the HTTP/1.1 server of `/metrics` (Prometheus), on `host`
   * (0 = an ephemeral port). Env `AIRWAVE_SERVICES_METRICS_PORT`; unset: no
   * metrics server (the gRPC port is HTTP/2 only, which Prometheus does not
   * scrape in cleartext).
   */
  metricsPort?: number | undefined;
  /** Simulator time to first token, in milliseconds. Env `AIRWAVE_SIM_TTFT_MS`; default `350`. */
  simTtftMs: number;
  /** Simulator output pace, in tokens per second (0 = unpaced). Env `AIRWAVE_SIM_TOKENS_PER_S`; default `40`. */
  simTokensPerS: number;
  /**
   * Base URL of an OpenAI-compatible Chat Completions API, up to and
   * including the version (`…/v1`). Env `OPENAI_BASE_URL`. Unset: the
   * `openai-compatible` provider uses https://api.openai.com/v1 when
   * {@link ServicesConfig.openaiApiKey} is set, and is not configured otherwise.
   */
  openaiBaseUrl?: string | undefined;
  /** Bearer token for the OpenAI-compatible API. Env `OPENAI_API_KEY`; default none (no `Authorization` header). */
  openaiApiKey?: string | undefined;
  /** Model used for a bare `"openai-compatible"` model string. Env `OPENAI_DEFAULT_MODEL`; default none. */
  openaiDefaultModel?: string | undefined;
  /**
   * Key of the `anthropic` provider shortcut (kind `anthropic`). Env
   * `ANTHROPIC_API_KEY`; default none (no `anthropic` provider unless a
   * routing file configures one).
   */
  anthropicApiKey?: string | undefined;
  /** Base URL of the `anthropic` shortcut. Env `ANTHROPIC_BASE_URL`; default https://api.anthropic.com. */
  anthropicBaseUrl?: string | undefined;
  /**
   * Key of the `gemini` provider shortcut (kind `gemini`, the Gemini
   * Developer API). Env `GEMINI_API_KEY`; default none (no `gemini` provider
   * unless a routing file configures one).
   */
  geminiApiKey?: string | undefined;
  /**
   * Address of an Ollama server for the `ollama` provider shortcut (kind
   * `ollama`, its native API), as Ollama's own `OLLAMA_HOST`: a URL, or
   * `host:port` (then `http://`). Env `OLLAMA_HOST`; default none (no
   * `ollama` provider unless a routing file configures one).
   */
  ollamaHost?: string | undefined;
  /**
   * Path of the routing file (JSON: providers, their kinds, base URLs, key
   * variables and limits, and model aliases; see the README's "Providers").
   * Env `AIRWAVE_PROVIDERS_FILE`; default none (only the simulator and the
   * environment shortcuts).
   */
  providersFile?: string | undefined;
  /**
   * Limits and retries of upstream calls, for every HTTP provider (a routing
   * file may override them per provider). Env
   * `AIRWAVE_UPSTREAM_CONNECT_TIMEOUT_MS` (default 10000, 1 to 600000),
   * `AIRWAVE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS` (60000, 0 = none, up to 3600000),
   * `AIRWAVE_UPSTREAM_IDLE_TIMEOUT_MS` (60000, 0 = none, up to 3600000),
   * `AIRWAVE_UPSTREAM_TOTAL_TIMEOUT_MS` (600000, 0 = none, up to 86400000),
   * `AIRWAVE_UPSTREAM_RETRIES` (2, 0 to 10),
   * `AIRWAVE_UPSTREAM_MAX_RETRY_AFTER_MS` (30000, 0 to 600000).
   */
  upstream: UpstreamLimits;
}

/** The environment variable of each upstream limit (see `ServicesConfig.upstream`). */
export const upstreamLimitEnv: Readonly<Record<keyof UpstreamLimits, string>> = {
  connectTimeoutMs: "AIRWAVE_UPSTREAM_CONNECT_TIMEOUT_MS",
  firstByteTimeoutMs: "AIRWAVE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS",
  idleTimeoutMs: "AIRWAVE_UPSTREAM_IDLE_TIMEOUT_MS",
  totalTimeoutMs: "AIRWAVE_UPSTREAM_TOTAL_TIMEOUT_MS",
  retries: "AIRWAVE_UPSTREAM_RETRIES",
  maxRetryAfterMs: "AIRWAVE_UPSTREAM_MAX_RETRY_AFTER_MS",
};

/** The defaults of {@link ServicesConfig}. */
export const defaultServicesConfig: Readonly<ServicesConfig> = {
  host: "127.0.0.1",
  port: 50051,
  simTtftMs: 350,
  simTokensPerS: 40,
  upstream: defaultUpstreamLimits,
};

/**
 * Reads {@link ServicesConfig} from environment variables; unset or empty
 * variables take their defaults.
 *
 * Raises a ConfigError (`@airwave/proto/server`) naming the variable when a
 * number is malformed or out of range, or `OPENAI_BASE_URL`,
 * `ANTHROPIC_BASE_URL` or `OLLAMA_HOST` is not an http(s) URL. The routing
 * file is only named here; `createRouting` reads and validates it.
 */
export function loadConfig(env: Env = process.env): ServicesConfig {
  const d = defaultServicesConfig;
  return {
    host: envText(env, "AIRWAVE_SERVICES_HOST") ?? d.host,
    port: envNumber(env, "AIRWAVE_SERVICES_PORT", d.port, { min: 0, max: 65535 }),
    metricsPort:
      envText(env, "AIRWAVE_SERVICES_METRICS_PORT") === undefined
        ? undefined
        : envNumber(env, "AIRWAVE_SERVICES_METRICS_PORT", 0, { min: 0, max: 65535 }),
    simTtftMs: envNumber(env, "AIRWAVE_SIM_TTFT_MS", d.simTtftMs, { min: 0, max: 600_000 }),
    simTokensPerS: envNumber(env, "AIRWAVE_SIM_TOKENS_PER_S", d.simTokensPerS, { min: 0, max: 1_000_000, integer: false }),
    openaiBaseUrl: envUrl(env, "OPENAI_BASE_URL"),
    openaiApiKey: envText(env, "OPENAI_API_KEY"),
    openaiDefaultModel: envText(env, "OPENAI_DEFAULT_MODEL"),
    anthropicApiKey: envText(env, "ANTHROPIC_API_KEY"),
    anthropicBaseUrl: envUrl(env, "ANTHROPIC_BASE_URL"),
    geminiApiKey: envText(env, "GEMINI_API_KEY"),
    ollamaHost: ollamaHost(env),
    providersFile: envText(env, "AIRWAVE_PROVIDERS_FILE"),
    upstream: upstreamLimits(env),
  };
}

function upstreamLimits(env: Env): UpstreamLimits {
  const read = (k: keyof UpstreamLimits) => {
    const [min, max] = upstreamLimitRanges[k];
    return envNumber(env, upstreamLimitEnv[k], defaultUpstreamLimits[k], { min, max });
  };
  return {
    connectTimeoutMs: read("connectTimeoutMs"),
    firstByteTimeoutMs: read("firstByteTimeoutMs"),
    idleTimeoutMs: read("idleTimeoutMs"),
    totalTimeoutMs: read("totalTimeoutMs"),
    retries: read("retries"),
    maxRetryAfterMs: read("maxRetryAfterMs"),
  };
}

/** `OLLAMA_HOST` as Ollama reads it: a URL, or `host[:port]` meaning `http://host[:port]`. */
function ollamaHost(env: Env): string | undefined {
  const raw = envText(env, "OLLAMA_HOST");
  if (raw === undefined) return undefined;
  return envUrl({ OLLAMA_HOST: /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}` }, "OLLAMA_HOST");
}
