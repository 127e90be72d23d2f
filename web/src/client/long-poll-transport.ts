import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type Cursor,
  formatCursor,
  ResumeOutcome,
  type StreamEvent,
  StreamEventSchema,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { abortError, toConnectError } from "./errors.js";
import { eventsUrl, postCancel, postInput, send } from "./http-send.js";
import type { GatewayHttpOptions, StreamTransport, WatchFilter } from "./transport.js";

/** Options of {@link createLongPollTransport}. */
export interface LongPollTransportOptions extends GatewayHttpOptions {
  /** How long one poll may wait for an event, in ms (the gateway caps it). @defaultValue 20000 */
  readonly waitMs?: number | undefined;
}

/** One long-poll answer of the gateway. @private */
interface PollBatch {
  /** The stream's id: the one the gateway chose when the request named none. */
  readonly streamId?: string;
  readonly events: JsonValue[];
  readonly cursor: string;
  readonly done: boolean;
}

/**
 * StreamService over plain request/response polls, for networks that buffer
 * or block streaming responses: `POST /v1/streams` and then
 * `GET /v1/streams/{id}/events?after=<cursor>&wait_ms=<waitMs>` with `Accept:
 * application/json`, each answering `{streamId, events, cursor, done}` at once
 * when events are ready, or after up to `waitMs` with none. The next poll
 * continues after `cursor`, until `done`. Cancel is `POST
 * /v1/streams/{id}:cancel`, input `POST /v1/streams/{id}:input`.
 *
 * A failed poll raises its ConnectError (a network failure is
 * Code.Unavailable), which the resume loop retries from the last event it saw.
 */
export function createLongPollTransport(o: LongPollTransportOptions): StreamTransport {
  const base = o.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof globalThis.fetch = (input, init) => (o.fetch ?? globalThis.fetch)(input, init);
  const waitMs = o.waitMs ?? 20_000;
  const accept = { Accept: "application/json" };

  async function poll(url: string, signal: AbortSignal, init: RequestInit = { headers: accept }): Promise<PollBatch> {
    const res = await send(doFetch, url, signal, init);
    try {
      return (await res.json()) as PollBatch;
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw new ConnectError(`poll broke off: ${toConnectError(e).rawMessage}`, Code.Unavailable, undefined, undefined, e);
    }
  }

  /**
   * Yields `first` and the polls that continue it. The gateway starts each
   * poll with a cursor by `resumed`; a RECOVERED one on a poll that merely
   * continues the previous one is dropped (it is not a resume the caller
   * asked for), any other outcome is passed on. `resumeFirst`: the first
   * poll is the caller's watch, so its `resumed` is passed on too.
   */
  async function* follow(
    streamId: string,
    first: PollBatch,
    signal: AbortSignal,
    resumeFirst: boolean,
    filter?: WatchFilter,
  ): AsyncGenerator<StreamEvent> {
    let batch = first;
    let continuation = !resumeFirst;
    for (;;) {
      for (const j of batch.events) {
        const e = fromJson(StreamEventSchema, j, { ignoreUnknownFields: true });
        if (continuation && e.event.case === "resumed" && e.event.value.outcome === ResumeOutcome.RECOVERED) continue;
        yield e;
      }
      if (batch.done) return;
      if (batch !== first) continuation = true;
      batch = await poll(eventsUrl(base, streamId, { after: batch.cursor, waitMs, filter }), signal);
    }
  }

  return {
    async *create(req: CreateStreamRequest, signal: AbortSignal) {
      const first = await poll(`${base}/v1/streams?wait_ms=${waitMs}`, signal, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...accept },
        body: JSON.stringify(toJson(CreateStreamRequestSchema, req)),
      });
      // Without a client-chosen id the gateway chose one: later polls need it.
      // Its follow-up polls keep the create's coalescing interval.
      yield* follow(first.streamId || req.streamId, first, signal, false, req.coalesceMs ? { coalesceMs: req.coalesceMs } : undefined);
    },
    watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter) {
      const first = { events: [], cursor: cursor ? formatCursor(cursor) : "", done: false };
      return follow(streamId, first, signal, true, filter);
    },
    cancel: (streamId: string, reason?: string) => postCancel(doFetch, base, streamId, reason),
    sendInput: (streamId: string, inputId: string, text: string, signal?: AbortSignal) =>
      postInput(doFetch, base, streamId, inputId, text, signal),
  };
}
