import { Code, ConnectError } from "@connectrpc/connect";
import { upstreamLimitRanges, type UpstreamLimits } from "../http-provider/upstream-limits.js";
import type { ProviderEntry, RoutingFile } from "./routing-file.js";

/** Provider names: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 64 characters. */
export const providerNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Alias names: 1 to 128 characters, no `/` and no whitespace. */
export const aliasNamePattern = /^[^/\s]{1,128}$/;
/** Environment variable names (POSIX portable). */
export const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Fields that would put a credential in the file: refused, keys come only from the environment. */
const credentialField = /^(api[_-]?key|key|token|access[_-]?token|secret|password|authorization|bearer|credentials?)$/i;
/** Header names that carry credentials: refused in `headers` for the same reason. */
const credentialHeader = /^(authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|cookie)$/i;
const entryFields = ["kind", "baseUrl", "apiKeyEnv", "headers", "options", "models", "defaultModel", "limits"];
const keysFromEnv = 'keys come only from the environment: put the key in an environment variable and name it in "apiKeyEnv"';

type Json = Record<string, unknown>;

/**
 * Parses and validates a routing file's text ({@link RoutingFile}). Checks
 * everything the file alone can tell: JSON shape, field names and types,
 * provider and alias names, known kinds, URLs, limits in range, no
 * credentials. Whether alias targets name configured providers is checked
 * by `createRouting` (environment shortcuts add providers).
 *
 * Raises a ConnectError with Code.InvalidArgument whose message starts with
 * `source` and names the bad key, e.g. `providers.groq.apiKey: keys come
 * only from the environment…`, `providers.x.kind: unknown kind "foo" (kinds:
 * …)`, `aliases.fast: want "<provider>/<model>"`.
 *
 * @param source - names the file in messages (e.g. `AIRWAVE_PROVIDERS_FILE (/etc/airwave/providers.json)`).
 * @param kinds - the known provider kinds (`providerSpecs` keys).
 * @param defaultBaseUrls - kinds that have a default base URL; others need `baseUrl`.
 */
export function parseRoutingFile(
  text: string,
  source: string,
  kinds: readonly string[],
  defaultBaseUrls: Readonly<Record<string, string>>,
): RoutingFile {
  const fail = (path: string, why: string): never => {
    throw new ConnectError(`${source}: ${path ? `${path}: ` : ""}${why}`, Code.InvalidArgument);
  };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return fail("", `not valid JSON (${e instanceof Error ? e.message : "parse error"})`);
  }
  if (!isObject(root)) return fail("", 'want a JSON object with "providers" and optionally "aliases"');
  for (const k of Object.keys(root)) {
    if (k !== "providers" && k !== "aliases" && !k.startsWith("$")) fail(k, 'unknown field (known: "providers", "aliases")');
  }
  const rawProviders = root["providers"] ?? {};
  if (!isObject(rawProviders)) fail("providers", "want an object of provider name → provider");
  const providers: Record<string, ProviderEntry> = {};
  for (const [name, raw] of Object.entries(rawProviders as Json)) {
    const path = `providers.${name}`;
    if (!providerNamePattern.test(name)) fail(path, `bad provider name: want ${providerNamePattern.source}`);
    if (name === "simulator") fail(path, 'the name "simulator" is reserved for the built-in simulator');
    providers[name] = parseEntry(raw, path, kinds, defaultBaseUrls, fail);
  }
  const rawAliases = root["aliases"] ?? {};
  if (!isObject(rawAliases)) fail("aliases", 'want an object of alias → "<provider>/<model>"');
  const aliases: Record<string, string> = {};
  for (const [alias, target] of Object.entries(rawAliases as Json)) {
    const path = `aliases.${alias}`;
    if (!aliasNamePattern.test(alias)) fail(path, 'an alias is a bare model name: 1 to 128 characters, no "/" or whitespace');
    if (alias in providers) fail(path, `"${alias}" is also a provider name`);
    if (typeof target !== "string" || !/^[^/]+\/.+$/.test(target)) fail(path, 'want "<provider>/<model>"');
    aliases[alias] = target as string;
  }
  return { providers, aliases };
}

function parseEntry(
  raw: unknown,
  path: string,
  kinds: readonly string[],
  defaultBaseUrls: Readonly<Record<string, string>>,
  fail: (path: string, why: string) => never,
): ProviderEntry {
  if (!isObject(raw)) return fail(path, 'want an object with at least "kind"');
  for (const k of Object.keys(raw)) {
    if (credentialField.test(k)) fail(`${path}.${k}`, keysFromEnv);
    if (!entryFields.includes(k) && !k.startsWith("$")) fail(`${path}.${k}`, `unknown field (known: ${entryFields.join(", ")})`);
  }
  const kind = raw["kind"];
  if (typeof kind !== "string" || !kinds.includes(kind)) {
    fail(`${path}.kind`, `${typeof kind === "string" ? `unknown kind "${kind}"` : "required"} (kinds: ${kinds.join(", ")})`);
  }
  const k = kind as string;
  let baseUrl: string | undefined;
  if (raw["baseUrl"] !== undefined) {
    baseUrl = httpUrl(raw["baseUrl"]);
    if (baseUrl === undefined) fail(`${path}.baseUrl`, "want an http or https URL");
    const u = new URL(baseUrl as string);
    if (u.username || u.password || [...u.searchParams.keys()].some((q) => credentialField.test(q))) fail(`${path}.baseUrl`, keysFromEnv);
  } else if (defaultBaseUrls[k] === undefined) {
    fail(`${path}.baseUrl`, `required for kind "${k}" (it has no public default)`);
  }
  const apiKeyEnv = raw["apiKeyEnv"];
  if (apiKeyEnv !== undefined && (typeof apiKeyEnv !== "string" || !envNamePattern.test(apiKeyEnv))) {
    fail(`${path}.apiKeyEnv`, 'want the NAME of an environment variable (e.g. "GROQ_API_KEY"), not a key');
  }
  const headers = raw["headers"];
  if (headers !== undefined) {
    if (!isObject(headers)) fail(`${path}.headers`, "want an object of header name → string value");
    for (const [h, v] of Object.entries(headers as Json)) {
      if (credentialHeader.test(h)) fail(`${path}.headers.${h}`, keysFromEnv);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) fail(`${path}.headers.${h}`, "not a valid header name");
      if (typeof v !== "string" || /[\r\n\0]/.test(v)) fail(`${path}.headers.${h}`, "want a one-line string");
    }
  }
  const options = raw["options"];
  if (options !== undefined && !isObject(options)) fail(`${path}.options`, "want an object");
  const models = raw["models"];
  if (models !== undefined && (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === "string" && m !== ""))) {
    fail(`${path}.models`, "want a non-empty array of model names");
  }
  const defaultModel = raw["defaultModel"];
  if (defaultModel !== undefined && (typeof defaultModel !== "string" || defaultModel === ""))
    fail(`${path}.defaultModel`, "want a model name");
  if (typeof defaultModel === "string" && Array.isArray(models) && !models.includes(defaultModel)) {
    fail(`${path}.defaultModel`, `"${defaultModel}" is not in "models"`);
  }
  const limits = raw["limits"] === undefined ? undefined : parseLimits(raw["limits"], `${path}.limits`, fail);
  return {
    kind: k,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(typeof apiKeyEnv === "string" ? { apiKeyEnv } : {}),
    ...(headers !== undefined ? { headers: headers as Record<string, string> } : {}),
    ...(options !== undefined ? { options: options as Json } : {}),
    ...(models !== undefined ? { models: models as string[] } : {}),
    ...(typeof defaultModel === "string" ? { defaultModel } : {}),
    ...(limits !== undefined ? { limits } : {}),
  };
}

function parseLimits(raw: unknown, path: string, fail: (path: string, why: string) => never): Partial<UpstreamLimits> {
  if (!isObject(raw)) return fail(path, "want an object");
  const out: Partial<Record<keyof UpstreamLimits, number>> = {};
  const known = Object.keys(upstreamLimitRanges) as (keyof UpstreamLimits)[];
  for (const [k, v] of Object.entries(raw)) {
    const key = known.find((n) => n === k);
    if (key === undefined) return fail(`${path}.${k}`, `unknown limit (known: ${known.join(", ")})`);
    const [min, max] = upstreamLimitRanges[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(`${path}.${k}`, `want an integer from ${min} to ${max}`);
    out[key] = v as number;
  }
  return out;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An http(s) URL without trailing slashes, or undefined. */
export function httpUrl(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
  } catch {
    return undefined;
  }
  return v.replace(/\/+$/, "");
}
