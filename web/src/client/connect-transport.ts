import { createConnectTransport } from "@connectrpc/connect-web";
import { createRpcTransport } from "./rpc-transport.js";
import type { StreamTransport } from "./transport.js";

/** Options of {@link createConnectStreamTransport} and {@link createGrpcWebStreamTransport}. */
export interface RpcTransportOptions {
  /** The gateway's origin (and path prefix, if any), e.g. `"http://127.0.0.1:8080"`. */
  readonly baseUrl: string;
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/**
 * `StreamService` over the Connect protocol (connect-web), in the binary
 * Protobuf format: unknown event kinds from a newer gateway are skipped by
 * the decoder instead of failing it.
 */
export function createConnectStreamTransport(o: RpcTransportOptions): StreamTransport {
  return createRpcTransport(createConnectTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...(o.fetch ? { fetch: o.fetch } : {}) }));
}
