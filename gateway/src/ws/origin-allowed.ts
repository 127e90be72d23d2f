import type { IncomingHttpHeaders } from "node:http";
import { isListedOrigin } from "../http/cors.js";

/**
 * Whether a WebSocket upgrade may proceed from its `Origin` (RFC 6455 §10.2:
 * browsers always send it; WebSockets are not subject to CORS, so the server
 * must check it, README "Owners"). Allowed:
 * - no `Origin` header: not a browser (curl, back ends, `ws` clients);
 * - an origin in `allowlist`, the CORS list (AIRWAVE_CORS_ORIGINS), or any
 *   origin when it holds `*`;
 * - the same origin: the Origin's host (and port) equals the `Host` header,
 *   i.e. the page was served by this gateway under the name it was reached by.
 *
 * Everything else (another site, `null`, a malformed origin) is refused; the
 * gateway answers 403 before the upgrade.
 */
export function originAllowed(allowlist: readonly string[], headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (isListedOrigin(allowlist, origin)) return true;
  const host = headers.host?.toLowerCase();
  if (host === undefined) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host === host;
  } catch {
    return false;
  }
}
