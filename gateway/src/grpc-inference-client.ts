import { create, fromBinary, isMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import {
  type InferenceService,
  type InteractRequest,
  InteractRequestSchema,
  type InteractResponse,
  InteractResponseSchema,
} from "@airwave/proto";
import { PausableQueue } from "./pausable-queue.js";

/**
 * What the gateway calls on the inference service: `Interact` only, in the
 * shape of a connect-es client (`createClient(InferenceService, …)`
 * satisfies it), so the hub and the generation do not depend on the gRPC
 * library underneath.
 */
export type InferenceClient = Pick<Client<typeof InferenceService>, "interact">;

/** Options of {@link createGrpcInferenceClient}. */
export interface GrpcInferenceClientOptions {
  /** The inference service, `http://host:port` (h2c) or `https://host:port` (TLS with the system roots). */
  readonly baseUrl: string;
  /**
   * HTTP/2 PING interval while calls are open, ms (`grpc.keepalive_time_ms`);
   * 0 or undefined: none. A dead connection then fails its calls within
   * interval + {@link pingTimeoutMs}.
   */
  readonly pingIntervalMs?: number;
  /** How long a PING may go unanswered, ms (`grpc.keepalive_timeout_ms`); default 15000. */
  readonly pingTimeoutMs?: number;
  /** How long a call left early may take to end by itself before it is cancelled, ms; default 5000. */
  readonly drainGraceMs?: number;
}

/** Messages buffered per call before the call is paused (HTTP/2 flow control then holds the rest). */
const highWater = 64;

/**
 * An {@link InferenceClient} over `@grpc/grpc-js`: the gateway's hop from the
 * inference service. Same behaviour as the connect-node client it can
 * replace, at about half its CPU per message (bench/src/ingress-hop.ts).
 *
 * - `interact(requests, { signal, timeoutMs, headers, onHeader, onTrailer })`
 *   writes each request message as it comes (awaiting `drain`), half-closes
 *   when `requests` ends, and yields every response message in order.
 * - Errors are ConnectErrors: a non-OK gRPC status keeps its code (gRPC
 *   status codes are Connect's `Code` values) and message, and its trailers
 *   (`airwave-reason`, `retry-after-ms`, …; binary `-bin` keys are left out)
 *   become `metadata`; an abort of `signal` raises the signal's reason
 *   (`ConnectError.from`, so CANCELED for an AbortError); `timeoutMs` is
 *   the gRPC deadline (DEADLINE_EXCEEDED). Response messages that arrived
 *   before an error are yielded first.
 * - Leaving the iteration early (`return()`, e.g. after the terminal event)
 *   half-closes the call and lets the service end it with its status, the
 *   remaining messages read and dropped; only a call still open
 *   `drainGraceMs` later is cancelled. Cancelling every finished call
 *   instead would send one RST_STREAM each, and an HTTP/2 server's
 *   rapid-reset limit (nghttp2, which node:http2 and so connect-node use:
 *   a burst of 1,000, then 33 per second; CVE-2023-44487) answers a busy
 *   gateway with GOAWAY(INTERNAL_ERROR), failing every call on the
 *   connection. An abort of `signal` still cancels at once: that is the
 *   cancel that reaches the provider.
 * - Backpressure: at most 64 messages are buffered per call; beyond that
 *   the call is paused (HTTP/2 flow control holds the rest upstream).
 *
 * One channel (one HTTP/2 connection, reconnected on failure) serves every
 * call; `close()` closes it.
 */
export function createGrpcInferenceClient(o: GrpcInferenceClientOptions): InferenceClient & { close(): void } {
  const u = new URL(o.baseUrl);
  const tls = u.protocol === "https:";
  const target = `${u.hostname.includes(":") ? `[${u.hostname}]` : u.hostname}:${u.port || (tls ? 443 : 80)}`;
  const channelOptions: grpc.ChannelOptions = {
    // connect-node's default: no limit on a received message.
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
    ...(o.pingIntervalMs && o.pingIntervalMs > 0
      ? { "grpc.keepalive_time_ms": o.pingIntervalMs, "grpc.keepalive_timeout_ms": o.pingTimeoutMs ?? 15_000 }
      : {}),
  };
  const client = new grpc.Client(target, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), channelOptions);
  const serialize = (m: InteractRequest) => Buffer.from(toBinary(InteractRequestSchema, m));
  const deserialize = (b: Buffer) => fromBinary(InteractResponseSchema, b);
  return {
    interact(requests: AsyncIterable<MessageInitShape<typeof InteractRequestSchema>>, options: CallOptions = {}) {
      return {
        [Symbol.asyncIterator]: () => startCall(client, serialize, deserialize, requests, options, o.drainGraceMs ?? 5_000),
      };
    },
    close: () => client.close(),
  };
}

function startCall(
  client: grpc.Client,
  serialize: (m: InteractRequest) => Buffer,
  deserialize: (b: Buffer) => InteractResponse,
  requests: AsyncIterable<MessageInitShape<typeof InteractRequestSchema>>,
  o: CallOptions,
  drainGraceMs: number,
): AsyncIterator<InteractResponse> {
  const signal = o.signal;
  const metadata = new grpc.Metadata();
  if (o.headers)
    new Headers(o.headers).forEach((v, k) => {
      metadata.add(k, v);
    });
  const call = client.makeBidiStreamRequest("/airwave.v1.InferenceService/Interact", serialize, deserialize, metadata, {
    ...(o.timeoutMs !== undefined && o.timeoutMs > 0 ? { deadline: Date.now() + o.timeoutMs } : {}),
  });
  // Resumed once the reader emptied it: HTTP/2 flow control holds the rest meanwhile.
  const queue = new PausableQueue<InteractResponse>({
    highWater,
    lowWater: 1,
    pause: () => call.pause(),
    resume: () => call.resume(),
  });
  let ended = false;
  /** The request side was half-closed (`end()`), by the writer or by `return()`. */
  let halfClosed = false;
  /** The consumer left: messages are dropped, the call ends by itself or is cancelled after the grace. */
  let left = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let error: ConnectError | undefined;

  const finish = (e?: ConnectError) => {
    if (ended) return;
    ended = true;
    error ??= e;
    signal?.removeEventListener("abort", onAbort);
    if (grace) clearTimeout(grace);
    queue.end(error);
  };
  const halfClose = () => {
    if (ended || halfClosed) return;
    halfClosed = true;
    call.end();
  };
  const onAbort = () => {
    error = ConnectError.from(signal?.reason);
    call.cancel();
  };

  call.on("metadata", (m: grpc.Metadata) => o.onHeader?.(toHeaders(m)));
  call.on("status", (s: grpc.StatusObject) => o.onTrailer?.(toHeaders(s.metadata)));
  call.on("data", (m: InteractResponse) => queue.push(m)); // dropped once the reader left
  call.on("error", (e: grpc.ServiceError) => {
    error ??= new ConnectError(e.details, transportCode(e), toHeaders(e.metadata), undefined, e);
  });
  // `end` comes after every message was delivered, also after an error status.
  call.on("end", () => finish());
  call.on("close", () => finish(error ?? new ConnectError("the inference call closed without a status", Code.Unavailable)));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });

  void (async () => {
    try {
      for await (const m of requests) {
        if (ended || halfClosed) return;
        const msg = isMessage(m, InteractRequestSchema) ? m : create(InteractRequestSchema, m);
        if (!call.write(msg)) await new Promise<void>((resolve) => call.once("drain", resolve));
      }
      halfClose();
    } catch (e) {
      error ??= ConnectError.from(e);
      call.cancel();
    }
  })();

  return {
    next: () => queue.next(),
    return() {
      if (!ended && !left) {
        left = true;
        signal?.removeEventListener("abort", onAbort);
        halfClose();
        grace = setTimeout(() => call.cancel(), drainGraceMs);
        grace.unref();
      }
      // Drops what is buffered and resumes a paused call, so its remaining messages are read and dropped.
      return queue.return();
    },
  };
}

/**
 * The code of a grpc-js error. grpc-js reports an HTTP/2 stream reset it has
 * no gRPC mapping for, e.g. every call of a connection that a GOAWAY with an
 * error code closed, as INTERNAL "Received RST_STREAM with code …"
 * (grpc-js `subchannel-call.ts`). No status came from the service then: the
 * connection failed, which is UNAVAILABLE (retryable), as for grpc-js's other
 * connection losses.
 */
function transportCode(e: grpc.ServiceError): Code {
  if (e.code === grpc.status.INTERNAL && e.details.startsWith("Received RST_STREAM")) return Code.Unavailable;
  return e.code as number as Code;
}

/** gRPC metadata as Headers; binary (`-bin`) values are left out. */
function toHeaders(m: grpc.Metadata | undefined): Headers {
  const h = new Headers();
  if (!m) return h;
  for (const [k, v] of Object.entries(m.getMap())) if (typeof v === "string") h.append(k, v);
  return h;
}
