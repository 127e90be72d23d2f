import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { RpcTransportOptions } from "./connect-transport.js";
import { createRpcTransport } from "./rpc-transport.js";
import type { StreamTransport } from "./transport.js";

/** `StreamService` over gRPC-Web (connect-web), binary Protobuf. */
export function createGrpcWebStreamTransport(o: RpcTransportOptions): StreamTransport {
  return createRpcTransport(createGrpcWebTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...(o.fetch ? { fetch: o.fetch } : {}) }));
}
