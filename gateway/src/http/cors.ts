import type { IncomingHttpHeaders } from "node:http";
import { cors as connectCors } from "@connectrpc/connect";

/** Extra request headers the HTTP routes accept from browsers (the OpenAI-compatible routes read `Airwave-Stream-Id` and `Airwave-On-Detach`). */
const routeHeaders = ["Authorization", "Last-Event-ID", "Accept", "traceparent", "tracestate", "Airwave-Stream-Id", "Airwave-On-Detach"];

/**
 * Extra response headers scripts may read: the error reason (as a header,
 * and as Connect unary's `Trailer-` form), the stream id the OpenAI-compatible
 * routes answer with, and `Retry-After` of 429/503 refusals.
 */
const exposedRouteHeaders = ["Airwave-Reason", "Trailer-Airwave-Reason", "Airwave-Stream-Id", "Retry-After"];

/** True when `origin` is in the allowlist (AIRWAVE_CORS_ORIGINS), or the list holds `*`. */
export function isListedOrigin(allowlist: readonly string[], origin: string): boolean {
  return allowlist.includes("*") || allowlist.includes(origin);
}

/**
 * CORS for the Connect, gRPC-Web and HTTP routes, with connect's header lists
 * and an origin allowlist (`*` allows any origin).
 *
 * Returns the response headers for a request from `origin`, or undefined when
 * the origin is not allowed (the browser then blocks the response).
 */
export function corsHeaders(
  allowlist: readonly string[],
  reqHeaders: IncomingHttpHeaders,
  preflight: boolean,
): Record<string, string> | undefined {
  const origin = reqHeaders.origin;
  if (origin === undefined || !isListedOrigin(allowlist, origin)) return undefined;
  const h: Record<string, string> = {
    "access-control-allow-origin": origin,
    vary: "Origin",
    "access-control-expose-headers": [...connectCors.exposedHeaders, ...exposedRouteHeaders].join(", "),
  };
  if (preflight) {
    h["access-control-allow-methods"] = [...connectCors.allowedMethods, "DELETE"].join(", ");
    h["access-control-allow-headers"] = [...connectCors.allowedHeaders, ...routeHeaders].join(", ");
    h["access-control-max-age"] = "7200";
  }
  return h;
}
