import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  createConnectStreamTransport,
  createGrpcWebStreamTransport,
  createLongPollTransport,
  createNdjsonTransport,
  createRpcTransport,
  createSseFetchTransport,
  createSseTransport,
  createWebSocketTransport,
  type EventSourceConstructor,
  type StreamTransport,
  type WebSocketConstructor,
} from "@airwave/web";
import { EventSource } from "eventsource";
import WebSocket from "ws";

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

/** Every transport of the gateway's edge, WebSocket included. */
export type EdgeTransportName = TransportName | "websocket";

/** Every edge transport name, in a fixed order. */
export const edgeTransportNames: readonly EdgeTransportName[] = ["connect", "grpc-web", "sse", "grpc", "ndjson", "long-poll", "websocket"];

/** The edge transports whose errors carry metadata (`airwave-reason`) to the client. */
export const rpcTransportNames: ReadonlySet<EdgeTransportName> = new Set(["connect", "grpc-web", "grpc"]);

/**
 * Transport `t` of a gateway at `baseUrl` as a client sends it, with
 * `Authorization: Bearer <key>` on every request when `key` is given (gRPC
 * as metadata, WebSocket as the `airwave.bearer.<key>` subprotocol). SSE
 * reads its watches with fetch (a native EventSource sends no header);
 * long-poll polls for 5 s. @private test support
 */
export function edgeTransport(t: EdgeTransportName, baseUrl: string, key?: string): StreamTransport {
  const authorization = key === undefined ? undefined : `Bearer ${key}`;
  const withKey: typeof fetch | undefined =
    authorization === undefined
      ? undefined
      : (input, init) => {
          const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
          headers.set("authorization", authorization);
          return fetch(input, { ...init, headers });
        };
  const f = withKey ? { fetch: withKey } : {};
  switch (t) {
    case "connect":
      return createConnectStreamTransport({ baseUrl, ...f });
    case "grpc-web":
      return createGrpcWebStreamTransport({ baseUrl, ...f });
    case "sse":
      return createSseFetchTransport({ baseUrl, ...f });
    case "grpc":
      return createRpcTransport(
        createGrpcTransport({
          baseUrl,
          interceptors:
            authorization === undefined
              ? []
              : [
                  (next) => (req) => {
                    req.header.set("authorization", authorization);
                    return next(req);
                  },
                ],
        }) as Transport,
      );
    case "ndjson":
      return createNdjsonTransport({ baseUrl, ...f });
    case "long-poll":
      return createLongPollTransport({ baseUrl, ...f, waitMs: 5000 });
    case "websocket":
      return createWebSocketTransport({
        baseUrl,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        ...(key === undefined ? {} : { apiKey: key }),
      });
  }
}
