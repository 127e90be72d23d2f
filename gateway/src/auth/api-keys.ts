import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "@airwave/proto/server";

/** One API key from configuration: the owner is `name`, never the key. */
export interface ApiKey {
  /** The key's name, e.g. `"billing-service"`: `[A-Za-z0-9_.-]{1,64}`. */
  readonly name: string;
  /** The secret the client sends as `Authorization: Bearer <key>`: at least 16 characters, no whitespace or comma. */
  readonly key: string;
}

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const keyPattern = /^[\x21-\x2b\x2d-\x7e]{16,512}$/; // visible ASCII but the comma

/**
 * Parses API keys from `name:key` pairs separated by commas or newlines
 * (the form of `AIRWAVE_API_KEYS` and of the lines of `AIRWAVE_API_KEYS_FILE`).
 * Blank entries and lines starting with `#` are skipped.
 *
 * Throws an Error naming `source` (never quoting a key) for an entry without
 * a colon, a bad name, a key shorter than 16 characters, or a repeated name
 * or key.
 */
export function parseApiKeys(text: string, source: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text.split(/[\n,]/).map((s) => s.trim());
  for (const [i, entry] of entries.entries()) {
    if (entry === "" || entry.startsWith("#")) continue;
    const colon = entry.indexOf(":");
    const name = colon < 0 ? "" : entry.slice(0, colon).trim();
    const key = colon < 0 ? "" : entry.slice(colon + 1).trim();
    if (!namePattern.test(name) || !keyPattern.test(key)) {
      throw new ConfigError(
        `${source}: entry ${i + 1} must be "<name>:<key>" with a name of [A-Za-z0-9_.-]{1,64} and a key of 16 to 512 visible ASCII characters (no comma)`,
      );
    }
    if (keys.some((k) => k.name === name)) throw new ConfigError(`${source}: the key name "${name}" appears twice`);
    if (keys.some((k) => k.key === key)) throw new ConfigError(`${source}: two entries share one key`);
    keys.push({ name, key });
  }
  return keys;
}

/**
 * Finds the key a client presented, in time independent of where (or
 * whether) it matches: both sides are hashed to 32 bytes with SHA-256 and
 * every configured key is compared with `crypto.timingSafeEqual`.
 *
 * Returns the key's name, or undefined when no key matches.
 */
export function createKeyMatcher(keys: readonly ApiKey[]): (presented: string) => string | undefined {
  const digests = keys.map((k) => ({ name: k.name, digest: sha256(k.key) }));
  return (presented) => {
    const d = sha256(presented);
    let found: string | undefined;
    for (const k of digests) if (timingSafeEqual(d, k.digest) && found === undefined) found = k.name;
    return found;
  };
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
