import { createConnectTransport } from "@connectrpc/connect-web";
import { createRpcTransport } from "./rpc-transport.js";
import type { GatewayHttpOptions, StreamTransport } from "./transport.js";

/** Options of {@link createConnectStreamTransport} and {@link createGrpcWebStreamTransport}. */
export type RpcTransportOptions = GatewayHttpOptions;

/**
 * `StreamService` over the Connect protocol (connect-web), in the binary
 * Protobuf format: unknown event kinds from a newer gateway are skipped by
 * the decoder instead of failing it.
 */
export function createConnectStreamTransport(o: RpcTransportOptions): StreamTransport {
  return createRpcTransport(createConnectTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...(o.fetch ? { fetch: o.fetch } : {}) }));
}
