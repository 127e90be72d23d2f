import type { UpstreamMeter } from "../metrics.js";
import { readFileSync } from "node:fs";
import type { Sleep } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServicesConfig } from "../config.js";
import { createHttpProvider } from "../http-provider/create-http-provider.js";
import type { Provider } from "../provider.js";
import { createSimulatorProvider } from "../providers/simulator/simulator-provider.js";
import { providerSpecs } from "../providers/specs.js";
import { defaultBaseUrls } from "./default-base-urls.js";
import { envShortcuts } from "./env-shortcuts.js";
import { createMissingKeyProvider } from "./missing-key-provider.js";
import { parseRoutingFile } from "./parse-routing-file.js";
import type { RoutingFile } from "./routing-file.js";

/** What one inference service serves: its providers and the model aliases. */
export interface Routing {
  /** `simulator` first, then the environment shortcuts, then the routing file's providers (a file entry replaces a shortcut of the same name). */
  readonly providers: Provider[];
  /** Bare model name → `<provider>/<model>`; every target names a provider in {@link Routing.providers}. */
  readonly aliases: Readonly<Record<string, string>>;
}

/** Options of {@link createRouting}. */
export interface CreateRoutingOptions {
  /** Where `apiKeyEnv` variables are read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The simulator's pacing sleep (tests inject one). */
  readonly sleep?: Sleep;
  /** Reads the routing file; default `readFileSync(path, "utf8")`. */
  readonly readFile?: (path: string) => string;
  /** Where the HTTP providers count their upstream calls; default nowhere. */
  readonly meter?: UpstreamMeter;
}

/**
 * Builds the providers and aliases a configuration enables:
 * - `simulator`, always, paced by `simTtftMs` and `simTokensPerS`;
 * - the environment shortcuts (`envShortcuts`: `openai-compatible`,
 *   `anthropic`, `gemini`, `ollama`);
 * - every provider of the routing file `config.providersFile`, each through
 *   `createHttpProvider` with its kind's spec, its base URL (default per
 *   kind), its key read from the environment variable `apiKeyEnv` names,
 *   and `config.upstream` overridden by its `limits`.
 *
 * A provider whose `apiKeyEnv` variable is unset or empty is still listed,
 * but refuses each request with Code.FailedPrecondition naming the variable
 * (`createMissingKeyProvider`): one missing key does not stop the other
 * providers, and the caller gets a clear error rather than "unknown provider".
 *
 * Raises a ConnectError with Code.InvalidArgument, naming the file and the
 * bad key, when the routing file cannot be read or is invalid
 * (`parseRoutingFile`), or an alias targets a provider that is not configured.
 */
export function createRouting(config: ServicesConfig, o: CreateRoutingOptions = {}): Routing {
  const env = o.env ?? process.env;
  const providers = new Map<string, Provider>();
  providers.set(
    "simulator",
    createSimulatorProvider({
      pacing: { ttftMs: config.simTtftMs, tokensPerS: config.simTokensPerS },
      ...(o.sleep ? { sleep: o.sleep } : {}),
    }),
  );
  for (const s of envShortcuts(config)) {
    providers.set(
      s.name,
      createHttpProvider({
        name: s.name,
        spec: specOf(s.kind),
        endpoint: { baseUrl: s.baseUrl, apiKey: s.apiKey },
        defaultModel: s.defaultModel,
        limits: config.upstream,
        meter: o.meter,
      }),
    );
  }
  let aliases: Readonly<Record<string, string>> = {};
  if (config.providersFile !== undefined) {
    const file = loadRoutingFile(config.providersFile, o.readFile);
    const source = fileSource(config.providersFile);
    for (const [name, e] of Object.entries(file.providers)) {
      const apiKey = e.apiKeyEnv === undefined ? undefined : env[e.apiKeyEnv]?.trim() || undefined;
      providers.set(
        name,
        e.apiKeyEnv !== undefined && apiKey === undefined
          ? createMissingKeyProvider({ name, apiKeyEnv: e.apiKeyEnv, models: e.models, defaultModel: e.defaultModel })
          : createHttpProvider({
              name,
              spec: specOf(e.kind),
              endpoint: { baseUrl: e.baseUrl ?? (defaultBaseUrls[e.kind] as string), apiKey, headers: e.headers, options: e.options },
              models: e.models,
              defaultModel: e.defaultModel,
              limits: { ...config.upstream, ...e.limits },
              meter: o.meter,
            }),
      );
    }
    for (const [alias, target] of Object.entries(file.aliases)) {
      const p = target.slice(0, target.indexOf("/"));
      if (providers.has(alias)) {
        throw new ConnectError(`${source}: aliases.${alias}: "${alias}" is also a provider name`, Code.InvalidArgument);
      }
      if (!providers.has(p)) {
        throw new ConnectError(
          `${source}: aliases.${alias}: provider "${p}" is not configured (configured: ${[...providers.keys()].join(", ")})`,
          Code.InvalidArgument,
        );
      }
    }
    aliases = file.aliases;
  }
  return { providers: [...providers.values()], aliases };
}

/**
 * Reads and validates the routing file at `path` (see `parseRoutingFile`).
 * Raises a ConnectError with Code.InvalidArgument naming the file when it
 * cannot be read or is invalid.
 */
export function loadRoutingFile(path: string, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): RoutingFile {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new ConnectError(`${fileSource(path)}: cannot read it${typeof code === "string" ? ` (${code})` : ""}`, Code.InvalidArgument);
  }
  return parseRoutingFile(text, fileSource(path), [...providerSpecs.keys()], defaultBaseUrls);
}

function fileSource(path: string): string {
  return `AIRWAVE_PROVIDERS_FILE (${path})`;
}

function specOf(kind: string) {
  const spec = providerSpecs.get(kind);
  if (!spec) throw new ConnectError(`unknown provider kind "${kind}"`, Code.Internal);
  return spec;
}
