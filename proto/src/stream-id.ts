/**
 * Stream ids: 16 random bytes (128 bits) in unpadded base64url, 22 characters.
 * Client-chosen ids must match {@link streamIdPattern}.
 */

/** Allowed stream ids: URL-safe, 22 to 128 characters. */
export const streamIdPattern = /^[A-Za-z0-9_-]{22,128}$/;

/** Returns a new random stream id (128 bits from the platform CSPRNG). */
export function newStreamId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** Returns a new random log epoch (64 bits, 11 characters). */
export function newEpoch(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(8)));
}

/** True when `id` is an acceptable stream id. */
export function isValidStreamId(id: string): boolean {
  return streamIdPattern.test(id);
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
