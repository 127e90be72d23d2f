import { type CreateStreamRequest, type Cursor, formatCursor, type StreamEvent, StreamService } from "@airwave/proto";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { abortError, toConnectError } from "./errors.js";
import type { StreamTransport, WatchFilter } from "./transport.js";

/**
 * `StreamService` over any Connect-ES `Transport` (Connect or gRPC-Web from
 * connect-web) as a {@link StreamTransport}. Heartbeat and resumed messages
 * pass through; the resume loop handles them.
 *
 * A response cut off mid-stream (a network error, a missing end-of-stream
 * message or trailer, a partial envelope) is raised as Code.Unavailable, so
 * that it is resumed; connect-web reports those as Code.Unknown.
 */
export function createRpcTransport(transport: Transport): StreamTransport {
  const client = createClient(StreamService, transport);
  return {
    async *create(req: CreateStreamRequest, signal: AbortSignal) {
      try {
        for await (const res of client.createStream(req, { signal })) if (res.event) yield res.event;
      } catch (e) {
        throw fromRpcError(e, signal);
      }
    },
    async *watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter): AsyncGenerator<StreamEvent> {
      try {
        const req = {
          streamId,
          cursor: cursor ? formatCursor(cursor) : "",
          agentIds: [...(filter?.agentIds ?? [])],
          coalesceMs: filter?.coalesceMs ?? 0,
        };
        for await (const res of client.watchStream(req, { signal })) if (res.event) yield res.event;
      } catch (e) {
        throw fromRpcError(e, signal);
      }
    },
    async cancel(streamId: string, reason = "") {
      try {
        await client.cancelStream({ streamId, reason });
      } catch (e) {
        throw toConnectError(e);
      }
    },
    async sendInput(streamId: string, inputId: string, text: string, signal?: AbortSignal) {
      try {
        const res = await client.sendInput({ streamId, inputId, text }, signal ? { signal } : {});
        return res.inputId;
      } catch (e) {
        throw signal?.aborted ? abortError(signal) : toConnectError(e);
      }
    },
  };
}

/** What connect-web throws (as the `cause` of a Code.Unknown) when a response breaks off. @private */
const truncated = new Set(["missing EndStreamResponse", "missing trailer", "missing response body"]);

/**
 * Maps the errors of a broken-off response to Code.Unavailable: connect-web's
 * (above), an incomplete envelope, and Code.Canceled while our own signal is
 * not aborted — an HTTP/2 stream reset by a lost connection (connect-node
 * reports RST_STREAM CANCEL as Canceled), never the user's stop. @private
 */
function fromRpcError(e: unknown, signal: AbortSignal): ConnectError {
  if (signal.aborted) return abortError(signal);
  const err = toConnectError(e);
  const cut =
    (err.code === Code.Unknown && (err.cause instanceof TypeError || truncated.has(String(err.cause)))) ||
    (err.code === Code.InvalidArgument && err.rawMessage === "protocol error: incomplete envelope") ||
    err.code === Code.Canceled;
  return cut ? new ConnectError(`stream broke off: ${err.rawMessage}`, Code.Unavailable, undefined, undefined, err) : err;
}
