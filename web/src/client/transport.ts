import type { CreateStreamRequest, Cursor, StreamEvent } from "@airwave/proto";

/**
 * One way of carrying a stream to the browser (Connect, gRPC-Web, SSE).
 *
 * A transport only moves events: it neither resumes, deduplicates nor
 * retries. That is done once, above every transport, by
 * {@link streamWithResume}. Each method raises a `ConnectError`, never
 * anything else; a dropped connection is `Code.Unavailable`, an aborted
 * `signal` is `Code.Canceled`.
 */
export interface StreamTransport {
  /**
   * Starts a generation (`CreateStream`) and yields its events from the
   * first one. With `req.streamId` set, calling it again attaches to the
   * existing stream from its start.
   */
  create(req: CreateStreamRequest, signal: AbortSignal): AsyncIterable<StreamEvent>;
  /**
   * Watches a stream strictly after `cursor` (`WatchStream`); `undefined`
   * watches from the first event. With a cursor the first event is `resumed`.
   */
  watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal): AsyncIterable<StreamEvent>;
  /**
   * Cancels the generation (`CancelStream`): the model stops and the stream
   * ends with `completed` (FINISH_REASON_CANCELLED). Idempotent.
   *
   * Raises a ConnectError with Code.NotFound for an unknown stream.
   */
  cancel(streamId: string, reason?: string): Promise<void>;
}
