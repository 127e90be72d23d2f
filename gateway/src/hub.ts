import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import {
  type CreateStreamRequest,
  FinishReason,
  formatCursor,
  type InferenceService,
  isTerminal,
  isValidStreamId,
  newStreamId,
  OnDetach,
  parseCursor,
  ResumeOutcome,
  type StreamEvent,
  StreamEventSchema,
  type StreamInfo,
  StreamInfoSchema,
  StreamState,
} from "@airwave/proto";
import { validateGenerateRequest } from "@airwave/services";
import { Generation, type CancelSource } from "./generation.js";
import { MemoryStreamLog } from "./log/memory-stream-log.js";
import type { StreamLog } from "./log/stream-log.js";

/** Limits and timings of the hub; see GatewayConfig for units and defaults. */
export interface HubOptions {
  detachGraceMs: number;
  streamTtlMs: number;
  logMaxEvents: number;
  maxStreams: number;
  generationTimeoutMs: number;
}

/** Events read from the log per pull. */
const readBatch = 256;

interface StreamRecord {
  readonly id: string;
  readonly owner: string;
  readonly model: string;
  readonly createdAtMs: number;
  readonly onDetach: OnDetach;
  readonly log: StreamLog;
  readonly generation: Generation;
  watchers: number;
  graceTimer?: ReturnType<typeof setTimeout>;
  expiryTimer?: ReturnType<typeof setTimeout>;
}

/**
 * The hub owns every stream: its log, its generation and its watchers.
 * Transports call only {@link create}, {@link watch}, {@link cancel} and
 * {@link get}: one resume lookup, one watch loop, for every transport.
 *
 * A foreign stream id and an unknown one get the same NOT_FOUND (DESIGN §10).
 */
export class Hub {
  readonly #streams = new Map<string, StreamRecord>();
  readonly #shutdown = new AbortController();

  constructor(
    private readonly upstream: Client<typeof InferenceService>,
    private readonly o: HubOptions,
  ) {}

  /** Number of streams held (running or ended, not yet expired). */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * Starts a generation, or attaches to the caller's existing stream with the
   * same client-chosen id. Resolves once the inference service accepted the
   * request (its `started` event is logged), so a refused request is an RPC
   * error, not a stream.
   *
   * Raises INVALID_ARGUMENT (bad request or stream id), ALREADY_EXISTS (the id
   * belongs to another owner), RESOURCE_EXHAUSTED (too many streams), and the
   * inference service's refusal (NOT_FOUND for an unknown model, UNAVAILABLE).
   */
  async create(owner: string, req: CreateStreamRequest): Promise<string> {
    if (!req.request) throw new ConnectError("request: a GenerateRequest is required", Code.InvalidArgument);
    validateGenerateRequest(req.request);
    if (req.streamId !== "" && !isValidStreamId(req.streamId)) {
      throw new ConnectError("stream_id: must match [A-Za-z0-9_-]{22,128}", Code.InvalidArgument);
    }
    const id = req.streamId || newStreamId();
    const existing = this.#streams.get(id);
    if (existing) {
      if (existing.owner !== owner) throw new ConnectError("stream_id is taken", Code.AlreadyExists);
      await existing.generation.accepted;
      return id;
    }
    if (this.#streams.size >= this.o.maxStreams) {
      throw new ConnectError("the gateway holds its maximum number of streams", Code.ResourceExhausted);
    }
    const log = new MemoryStreamLog(id, this.o.logMaxEvents);
    const generation = new Generation(this.upstream, req.request, log, this.o.generationTimeoutMs, this.#shutdown.signal);
    const rec: StreamRecord = {
      id,
      owner,
      model: req.request.model,
      createdAtMs: Date.now(),
      onDetach: req.onDetach,
      log,
      generation,
      watchers: 0,
    };
    this.#streams.set(id, rec);
    void generation.done.then(() => this.#ended(rec));
    try {
      await generation.accepted;
    } catch (e) {
      this.#remove(rec);
      throw e;
    }
    // A creator that never attaches (it left before the first event) must
    // not leave an orphan generation: it gets the grace period like any
    // detach. The creator's watch, attaching right after, clears it.
    if (rec.watchers === 0 && rec.onDetach !== OnDetach.CONTINUE) this.#armGrace(rec);
    return id;
  }

  /**
   * Watches a stream strictly after `cursor` (text form `"<epoch>:<seq>"`;
   * empty = from the first event). With a cursor, the first event is
   * `resumed`. Ends after the terminal event, or throws the signal's reason
   * when `signal` aborts (the watcher left; the generation goes on as its
   * on_detach policy says).
   *
   * The returned iterable pulls from the log at the consumer's pace: this is
   * the backpressure (STYLE P6). Raises NOT_FOUND (unknown, foreign or
   * expired stream), OUT_OF_RANGE (events after the cursor were trimmed),
   * INVALID_ARGUMENT (malformed cursor) on the first pull.
   */
  async *watch(owner: string, streamId: string, cursor: string, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const rec = this.#find(owner, streamId);
    let after = 0;
    if (cursor !== "") {
      const c = parseCursor(cursor);
      if (c.epoch === rec.log.epoch) {
        rec.log.read(c.seq, 0); // OUT_OF_RANGE now, before anything is sent
        after = c.seq;
        yield resumed(ResumeOutcome.RECOVERED, formatCursor(c));
      } else {
        yield resumed(ResumeOutcome.EPOCH_CHANGED, formatCursor({ epoch: rec.log.epoch, seq: 0 }));
      }
    }
    this.#attach(rec);
    try {
      for (;;) {
        const batch = rec.log.read(after, readBatch);
        for (const e of batch) {
          yield e; // suspends until the consumer pulls
          after = e.seq;
          if (isTerminal(e)) return;
        }
        if (batch.length === 0) {
          if (rec.log.ended) return;
          await rec.log.wait(after, signal);
        }
      }
    } finally {
      this.#detach(rec);
    }
  }

  /**
   * Cancels a stream: aborts the upstream call at once; the stream ends with
   * `completed(CANCELLED)`. Idempotent. Raises NOT_FOUND for an unknown or
   * foreign stream.
   */
  async cancel(owner: string, streamId: string, source: CancelSource = "client"): Promise<StreamInfo> {
    const rec = this.#find(owner, streamId);
    rec.generation.cancel(source);
    await rec.generation.done;
    return info(rec);
  }

  /** The stream's state. Raises NOT_FOUND for an unknown or foreign stream. */
  get(owner: string, streamId: string): StreamInfo {
    return info(this.#find(owner, streamId));
  }

  /** Cancels every generation and waits until each log has its terminal event. */
  async close(): Promise<void> {
    this.#shutdown.abort(new ConnectError("the gateway is shutting down", Code.Unavailable));
    await Promise.all([...this.#streams.values()].map((r) => r.generation.done));
    for (const r of this.#streams.values()) {
      clearTimeout(r.graceTimer);
      clearTimeout(r.expiryTimer);
    }
  }

  #find(owner: string, streamId: string): StreamRecord {
    const rec = this.#streams.get(streamId);
    if (!rec || rec.owner !== owner) throw new ConnectError(`stream not found`, Code.NotFound);
    return rec;
  }

  #attach(rec: StreamRecord): void {
    rec.watchers++;
    clearTimeout(rec.graceTimer);
    rec.graceTimer = undefined;
  }

  /** The last watcher leaving applies the stream's on_detach policy (DESIGN §5). */
  #detach(rec: StreamRecord): void {
    rec.watchers--;
    if (rec.watchers > 0 || rec.log.ended) return;
    switch (rec.onDetach) {
      case OnDetach.CONTINUE:
        return;
      case OnDetach.CANCEL:
        rec.generation.cancel("detach");
        return;
      default:
        this.#armGrace(rec);
    }
  }

  /** Cancels the generation unless a watcher attaches within the grace period. */
  #armGrace(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    rec.graceTimer = setTimeout(() => {
      if (rec.watchers === 0) rec.generation.cancel("detach");
    }, this.o.detachGraceMs);
  }

  #ended(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    if (this.#streams.get(rec.id) !== rec) return;
    rec.expiryTimer = setTimeout(() => this.#remove(rec), this.o.streamTtlMs);
    rec.expiryTimer.unref?.();
  }

  #remove(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    clearTimeout(rec.expiryTimer);
    if (this.#streams.get(rec.id) === rec) this.#streams.delete(rec.id);
  }
}

function resumed(outcome: ResumeOutcome, cursor: string): StreamEvent {
  return create(StreamEventSchema, { event: { case: "resumed", value: { outcome, cursor } } });
}

function info(rec: StreamRecord): StreamInfo {
  return create(StreamInfoSchema, {
    streamId: rec.id,
    state: stateOf(rec),
    epoch: rec.log.epoch,
    lastSeq: rec.log.top,
    model: rec.model,
    createdAt: timestampFromMs(rec.createdAtMs),
    watchers: rec.watchers,
  });
}

function stateOf(rec: StreamRecord): StreamState {
  if (!rec.log.ended) return StreamState.RUNNING;
  const [last] = rec.log.read(rec.log.top - 1, 1);
  if (last?.event.case === "failed") return StreamState.FAILED;
  if (last?.event.case === "completed" && last.event.value.finishReason === FinishReason.CANCELLED) {
    return StreamState.CANCELLED;
  }
  return StreamState.COMPLETED;
}
