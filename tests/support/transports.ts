import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  createConnectStreamTransport,
  createGrpcWebStreamTransport,
  createLongPollTransport,
  createNdjsonTransport,
  createRpcTransport,
  createSseTransport,
  type EventSourceConstructor,
  type StreamTransport,
} from "@airwave/web";
import { EventSource } from "eventsource";

/** The transports the client library speaks, by name, as Node tests build them. */
export type TransportName = "connect" | "grpc-web" | "sse" | "grpc" | "ndjson" | "long-poll";

/**
 * One factory per transport, for a gateway (or a proxy in front of it) at
 * `baseUrl`: Connect and gRPC-Web (connect-web over fetch), SSE (fetch for
 * create, the `eventsource` package for watch), gRPC (connect-node over
 * HTTP/2), NDJSON and long-poll (5 s polls). @private test support
 */
export const clientTransports: Readonly<Record<TransportName, (baseUrl: string) => StreamTransport>> = {
  connect: (baseUrl) => createConnectStreamTransport({ baseUrl }),
  "grpc-web": (baseUrl) => createGrpcWebStreamTransport({ baseUrl }),
  sse: (baseUrl) => createSseTransport({ baseUrl, EventSource: EventSource as unknown as EventSourceConstructor }),
  grpc: (baseUrl) => createRpcTransport(createGrpcTransport({ baseUrl }) as Transport),
  ndjson: (baseUrl) => createNdjsonTransport({ baseUrl }),
  "long-poll": (baseUrl) => createLongPollTransport({ baseUrl, waitMs: 5000 }),
};

/** Every transport name, in a fixed order. */
export const transportNames = Object.keys(clientTransports) as TransportName[];
