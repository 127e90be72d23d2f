/**
 * A fake `AirwaveClient` for the binding's tests: every `stream` / `watch`
 * is a {@link FakeStream} the test feeds by hand (events, an error, the
 * end), and `cancel` / `sendInput` are recorded. @private test support
 */
import {
  type CreateStreamRequestSchema,
  type Cursor,
  ev,
  FinishReason,
  isTerminal,
  type StreamEvent,
  StreamEventSchema,
} from "@airwave/proto";
import type { AirwaveClient, ResumableStream, StreamOptions, TransportName } from "@airwave/web";
import { clone, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** One stream the fake client handed out. */
export interface FakeStream extends ResumableStream {
  /** How it was made: `stream` (with its request) or `watch` (with its cursor). */
  readonly kind: "stream" | "watch";
  readonly request?: MessageInitShape<typeof CreateStreamRequestSchema> | undefined;
  readonly cursor?: string | undefined;
  readonly options: StreamOptions;
  /** Delivers `e`, positioned at the next seq of epoch `"e1"` unless it already has a seq. */
  push(...events: StreamEvent[]): void;
  /** Ends the iteration with `err`. */
  fail(err: ConnectError): void;
  /** True once an iteration started. */
  readonly started: boolean;
  /** True once the iteration ended (terminal event, error, or abort). */
  readonly ended: boolean;
  /** True when everything pushed was taken (the consumer waits for more), or the iteration ended. */
  readonly drained: boolean;
}

/** The fake client and what was asked of it. */
export interface FakeClient {
  readonly client: AirwaveClient;
  /** Every stream handed out, in order. */
  readonly streams: FakeStream[];
  readonly cancels: { streamId: string; reason: string | undefined }[];
  readonly inputs: { streamId: string; inputId: string; text: string }[];
  /** What `cancel` does: by default it logs `completed` (cancelled) on the live stream and resolves. */
  onCancel: (s: FakeStream | undefined) => Promise<void>;
  /** What `sendInput` does: by default it resolves. */
  onInput: (s: FakeStream | undefined, inputId: string, text: string) => Promise<void>;
}

/** Makes a {@link FakeClient}; `transport` is what it reports. */
export function createFakeClient(transport: TransportName = "connect"): FakeClient {
  let n = 0;
  const fake: FakeClient = {
    streams: [],
    cancels: [],
    inputs: [],
    async onCancel(s) {
      s?.push(cancelled());
    },
    async onInput() {},
    client: {
      transport,
      stream(req, opts = {}) {
        const s = fakeStream("stream", `stream-${++n}`, opts, { request: req as MessageInitShape<typeof CreateStreamRequestSchema> });
        fake.streams.push(s);
        return s;
      },
      watch(streamId, cursor, opts = {}) {
        const text = typeof cursor === "object" ? `${(cursor as Cursor).epoch}:${(cursor as Cursor).seq}` : cursor;
        const s = fakeStream("watch", streamId, opts, { cursor: text });
        fake.streams.push(s);
        return s;
      },
      async cancel(streamId, reason) {
        fake.cancels.push({ streamId, reason });
        await fake.onCancel(live(streamId));
      },
      async sendInput(streamId, inputId, text) {
        fake.inputs.push({ streamId, inputId, text });
        await fake.onInput(live(streamId), inputId, text);
        return inputId;
      },
      async get() {
        throw new ConnectError("not in the fake", Code.Unimplemented);
      },
      close() {},
    },
  };
  const live = (id: string) => fake.streams.findLast((s) => s.streamId === id && !s.ended);
  return fake;
}

/** `completed` (cancelled) — what the gateway logs after a cancel. */
function cancelled(): StreamEvent {
  return ev.completed(FinishReason.CANCELLED);
}

/** @private */
function fakeStream(
  kind: "stream" | "watch",
  streamId: string,
  options: StreamOptions,
  extra: { request?: MessageInitShape<typeof CreateStreamRequestSchema>; cursor?: string | undefined },
): FakeStream {
  const queue: (StreamEvent | ConnectError)[] = [];
  let wake: (() => void) | undefined;
  let seq = extra.cursor ? Number(extra.cursor.split(":")[1]) : 0;
  let started = false;
  let ended = false;
  const kick = () => {
    wake?.();
    wake = undefined;
  };
  options.signal?.addEventListener("abort", kick);
  return {
    kind,
    streamId,
    options,
    request: extra.request,
    cursor: extra.cursor,
    get started() {
      return started;
    },
    get ended() {
      return ended;
    },
    get drained() {
      return ended || (queue.length === 0 && wake !== undefined);
    },
    push(...events) {
      for (const e of events) {
        const c = clone(StreamEventSchema, e);
        c.streamId = streamId;
        if (c.seq === 0 && c.event.case !== "heartbeat" && c.event.case !== "resumed") {
          c.epoch = c.epoch || "e1";
          c.seq = ++seq;
        }
        queue.push(c);
      }
      kick();
    },
    fail(err) {
      queue.push(err);
      kick();
    },
    async *[Symbol.asyncIterator]() {
      started = true;
      try {
        for (;;) {
          if (options.signal?.aborted) throw new ConnectError("stopped", Code.Canceled);
          const next = queue.shift();
          if (next === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          if (next instanceof ConnectError) throw next;
          yield next;
          if (isTerminal(next)) return;
        }
      } finally {
        ended = true;
      }
    },
  };
}
