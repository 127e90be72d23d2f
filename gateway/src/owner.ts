import { createHash } from "node:crypto";

/**
 * Owners of streams (README "Owners"). Every stream belongs to the identity that
 * created it, and every watch, cancel, get and input re-checks it: anyone
 * else gets the NOT_FOUND of an unknown id. The owner is decided once per
 * call by `Authenticator.identify` (./auth/authenticator.ts), for the
 * Connect/gRPC/gRPC-Web service and the HTTP routes alike.
 *
 * Owner strings are namespaced so that no key name can collide with a
 * browser identity: `key:<name>`, `browser:<id>`, `bearer:<digest>`, or
 * `anonymous`.
 */

/**
 * The one owner shared by every call that carries neither an API key nor a
 * browser cookie (curl, gRPC clients, server-side fetch) when keys are
 * optional: such callers can watch and cancel each other's streams if they
 * know the id (128 random bits).
 */
export const anonymousOwner = "anonymous";

/** The owner of the streams created with the API key named `name`. */
export function keyOwner(name: string): string {
  return `key:${name}`;
}

/** The owner of the streams created by the browser identity `id`. */
export function browserOwner(id: string): string {
  return `browser:${id}`;
}

/**
 * The owner of the streams created with an unverified bearer token (no keys
 * are configured): `bearer:` and the first 128 bits of the token's SHA-256,
 * base64url. The token itself never becomes an owner string or reaches a log.
 */
export function bearerOwner(token: string): string {
  return `bearer:${createHash("sha256").update(token).digest().subarray(0, 16).toString("base64url")}`;
}
