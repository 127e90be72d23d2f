import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CreateStreamRequest, type CreateStreamRequestSchema, type StreamInfo, StreamService } from "@airwave/proto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createConnectStreamTransport } from "./connect-transport.js";
import { toConnectError } from "./errors.js";
import { createGrpcWebStreamTransport } from "./grpc-web-transport.js";
import { type ResumableStream, type ResumeOptions, streamWithResume } from "./resume-loop.js";
import { type EventSourceConstructor, createSseTransport } from "./sse-transport.js";
import type { StreamTransport } from "./transport.js";

export { createConnectStreamTransport, type RpcTransportOptions } from "./connect-transport.js";
export { codeName, errorFromJson, errorFromResponse, parseCodeName, toConnectError } from "./errors.js";
export { createGrpcWebStreamTransport } from "./grpc-web-transport.js";
export {
  type BackoffOptions,
  defaultBackoff,
  delay,
  type ResumableStream,
  type ResumeOptions,
  type RetryInfo,
  streamWithResume,
} from "./resume-loop.js";
export { createRpcTransport } from "./rpc-transport.js";
export { createLongPollTransport, type LongPollTransportOptions } from "./long-poll-transport.js";
export { createNdjsonTransport, type NdjsonTransportOptions } from "./ndjson-transport.js";
export { decodeSseEvent, defaultMaxEventChars, readSseEvents, transformSseEvents } from "./sse-events.js";
export { createSseTransport, type EventSourceConstructor, type SseTransportOptions } from "./sse-transport.js";
export type { StreamTransport } from "./transport.js";

/** The transports a browser can use. */
export type TransportName = "connect" | "grpc-web" | "sse";

/** The transports a browser can use, in the order a UI should offer them. */
export const transportNames: readonly TransportName[] = ["connect", "grpc-web", "sse"];

/** Options of {@link createAirwaveClient}. */
export interface AirwaveClientOptions {
  /** The gateway's origin (and path prefix, if any), e.g. `location.origin`. */
  readonly baseUrl: string;
  /** How events travel. @defaultValue `"connect"` */
  readonly transport?: TransportName | undefined;
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** The `EventSource` for the `"sse"` transport. @defaultValue `globalThis.EventSource` */
  readonly EventSource?: EventSourceConstructor | undefined;
}

/** A client of the gateway's StreamService. */
export interface AirwaveClient {
  /** The transport in use. */
  readonly transport: TransportName;
  /**
   * Starts a generation and follows it to its terminal event, resuming on
   * its own ({@link streamWithResume}). The stream id is known at once:
   * `client.stream(req).streamId`.
   */
  stream(
    req: CreateStreamRequest | MessageInitShape<typeof CreateStreamRequestSchema>,
    opts?: ResumeOptions,
  ): ResumableStream;
  /**
   * Cancels a generation: the model stops, and the stream ends with
   * `completed` (FINISH_REASON_CANCELLED). Raises a ConnectError
   * (Code.NotFound for an unknown stream).
   */
  cancel(streamId: string, reason?: string): Promise<void>;
  /** A stream's state and last position. Raises a ConnectError (Code.NotFound for an unknown stream). */
  get(streamId: string, signal?: AbortSignal): Promise<StreamInfo>;
}

/**
 * Creates a client for the gateway at `baseUrl` using one transport.
 * `get` always uses an RPC (Connect, or gRPC-Web when that is the transport):
 * the HTTP routes have no GetStream.
 */
export function createAirwaveClient(o: AirwaveClientOptions): AirwaveClient {
  const name = o.transport ?? "connect";
  const fetchOpt = o.fetch ? { fetch: o.fetch } : {};
  const transport: StreamTransport =
    name === "connect"
      ? createConnectStreamTransport({ baseUrl: o.baseUrl, ...fetchOpt })
      : name === "grpc-web"
        ? createGrpcWebStreamTransport({ baseUrl: o.baseUrl, ...fetchOpt })
        : createSseTransport({ baseUrl: o.baseUrl, ...fetchOpt, EventSource: o.EventSource });
  const rpc = createClient(
    StreamService,
    name === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...fetchOpt })
      : createConnectTransport({ baseUrl: o.baseUrl, useBinaryFormat: true, ...fetchOpt }),
  );
  return {
    transport: name,
    stream: (req, opts) => streamWithResume(transport, req, opts),
    cancel: (streamId, reason) => transport.cancel(streamId, reason),
    async get(streamId, signal) {
      try {
        const res = await rpc.getStream({ streamId }, signal ? { signal } : {});
        if (!res.stream) throw new ConnectError("GetStream answered without a stream", Code.Internal);
        return res.stream;
      } catch (e) {
        throw toConnectError(e);
      }
    },
  };
}
