/** The environment a configuration is read from (`process.env`, or a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A configuration the process cannot start with: a malformed variable, or
 * variables that contradict each other. The message names the variable(s)
 * and what was wanted; it shows a value only where the value is no secret
 * (numbers, URLs, modes). The entry points print it as one line and exit 2.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** A variable's text, trimmed; undefined when unset or blank. */
export function envText(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** Bounds of {@link envNumber}. */
export interface NumberBounds {
  readonly min: number;
  readonly max: number;
  /** Only whole numbers. @defaultValue true */
  readonly integer?: boolean;
}

/**
 * A numeric variable within `bounds`; `fallback` when unset or blank.
 * Raises {@link ConfigError} for anything else, naming the variable, the
 * value and the range wanted.
 */
export function envNumber(
  env: Env,
  name: string,
  fallback: number,
  bounds: NumberBounds = { min: 0, max: Number.MAX_SAFE_INTEGER },
): number {
  const raw = envText(env, name);
  if (raw === undefined) return fallback;
  const integer = bounds.integer ?? true;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < bounds.min || n > bounds.max || (integer && !Number.isSafeInteger(n))) {
    const range = bounds.max === Number.MAX_SAFE_INTEGER ? `${bounds.min} or more` : `from ${bounds.min} to ${bounds.max}`;
    throw new ConfigError(`${name}=${JSON.stringify(raw)}: want ${integer ? "an integer" : "a number"} ${range}`);
  }
  return n;
}

/**
 * An http(s) URL variable without trailing slashes; undefined when unset or
 * blank. Raises {@link ConfigError} for anything else (the value is not
 * shown: a URL may carry credentials).
 */
export function envUrl(env: Env, name: string): string | undefined {
  const raw = envText(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(`${name}: want an http or https URL`);
  return raw.replace(/\/+$/, "");
}

/**
 * For entry points: runs `start`; a {@link ConfigError} it raises becomes
 * one line on stderr (`airwave: <message>`) and exit code 2, any other
 * error propagates as it is.
 */
export async function startOrExit<T>(start: () => Promise<T> | T): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`airwave: ${e.message}`);
    process.exit(2);
  }
}
