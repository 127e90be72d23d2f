/**
 * The Airwave browser client: one AsyncIterable API over Connect, gRPC-Web,
 * SSE (EventSource or fetch), NDJSON, WebSocket and long-poll, with one
 * resume loop (backoff, dedupe, adaptive fallback) for every transport, and
 * page lifecycle helpers (session storage, pagehide policy, connection guard).
 * The streaming Markdown renderer is browser-only and has a subpath of its
 * own, `@airwave/web/render`, so Node-side users of the client never load it
 * (nor its DOM typings).
 *
 * @example
 * import { createAirwaveClient } from "@airwave/web";
 * const client = createAirwaveClient({ baseUrl: location.origin, transport: "websocket" });
 * for await (const e of client.stream({ request: { model: "simulator", messages } })) render(e);
 */
export * from "./client/index.js";
export * from "./model/index.js";
