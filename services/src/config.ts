import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Settings of the inference service, read from the environment by
 * {@link loadConfig}. Every field has a documented default.
 */
export interface ServicesConfig {
  /** Interface to listen on. Env `AIRWAVE_SERVICES_HOST`; default `"127.0.0.1"`. */
  host: string;
  /** TCP port to listen on (0 = an ephemeral port). Env `AIRWAVE_SERVICES_PORT`; default `50051`. */
  port: number;
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
}

/** The defaults of {@link ServicesConfig}. */
export const defaultServicesConfig: Readonly<ServicesConfig> = {
  host: "127.0.0.1",
  port: 50051,
  simTtftMs: 350,
  simTokensPerS: 40,
};

/**
 * Reads {@link ServicesConfig} from environment variables; unset or empty
 * variables take their defaults.
 *
 * Raises a ConnectError with Code.InvalidArgument naming the variable when a
 * number is malformed or out of range, or `OPENAI_BASE_URL` is not an
 * http(s) URL.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServicesConfig {
  const d = defaultServicesConfig;
  return {
    host: text(env, "AIRWAVE_SERVICES_HOST") ?? d.host,
    port: num(env, "AIRWAVE_SERVICES_PORT", d.port, 0, 65535, true),
    simTtftMs: num(env, "AIRWAVE_SIM_TTFT_MS", d.simTtftMs, 0, 600_000, true),
    simTokensPerS: num(env, "AIRWAVE_SIM_TOKENS_PER_S", d.simTokensPerS, 0, 1_000_000, false),
    openaiBaseUrl: url(env, "OPENAI_BASE_URL"),
    openaiApiKey: text(env, "OPENAI_API_KEY"),
    openaiDefaultModel: text(env, "OPENAI_DEFAULT_MODEL"),
  };
}

function text(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function num(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ConnectError(
      `${name}=${JSON.stringify(raw)}: want ${integer ? "an integer" : "a number"} from ${min} to ${max}`,
      Code.InvalidArgument,
    );
  }
  return n;
}

function url(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConnectError(`${name}: not a URL`, Code.InvalidArgument);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new ConnectError(`${name}: want an http or https URL`, Code.InvalidArgument);
  }
  return raw.replace(/\/+$/, "");
}
