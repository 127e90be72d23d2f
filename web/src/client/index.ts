/**
 * The browser client: `createAirwaveClient` over seven transports, the one
 * resume loop, the page lifecycle, and the transports themselves.
 */
export {
  type AirwaveClient,
  type AirwaveClientOptions,
  type CallOptions,
  createAirwaveClient,
  defaultFallback,
  type StreamOptions,
  type TransportName,
  transportNames,
} from "./airwave-client.js";
export { createConnectStreamTransport, type RpcTransportOptions } from "./connect-transport.js";
export { codeName, errorFromJson, errorFromResponse, parseCodeName, toConnectError } from "./errors.js";
export { createGrpcWebStreamTransport } from "./grpc-web-transport.js";
export {
  type BackoffOptions,
  defaultBackoff,
  defaultFallbackAfter,
  delay,
  type FallbackInfo,
  type NamedTransport,
  type ResumableStream,
  type ResumeOptions,
  type RetryInfo,
  streamWithResume,
  type TransportChain,
  watchWithResume,
} from "./resume-loop.js";
export { createRpcTransport } from "./rpc-transport.js";
export { createLongPollTransport, type LongPollTransportOptions } from "./long-poll-transport.js";
export { createNdjsonTransport, type NdjsonTransportOptions } from "./ndjson-transport.js";
export { decodeSseEvent, defaultMaxEventChars, readSseEvents, transformSseEvents } from "./sse-events.js";
export { createSseFetchTransport, createSseTransport, type EventSourceConstructor, type SseTransportOptions } from "./sse-transport.js";
export {
  createWebSocketTransport,
  type WebSocketConstructor,
  type WebSocketStreamTransport,
  type WebSocketTransportOptions,
  webSocketSubprotocols,
  wsErrorToConnectError,
} from "./websocket-transport.js";
export { codeFromCloseCode } from "./close-code.js";
export { type ConnectionGuard, type ConnectionLease, createConnectionGuard, pageConnectionGuard } from "./connection-guard.js";
export {
  createPageStreams,
  type PageHidePolicy,
  type PageStreams,
  type PageStreamsOptions,
  type PageWindow,
  type SavedStream,
} from "./page-streams.js";
export type { GatewayHttpOptions, StreamTransport, WatchFilter } from "./transport.js";
export { newTraceparent } from "./trace-context.js";
