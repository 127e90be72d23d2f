import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createLinkedAbortController } from "@connectrpc/connect/protocol";
import {
  type CreateStreamRequest,
  isValidStreamId,
  newStreamId,
  OnDetach,
  type ResumeOutcome,
  type SendInputRequest,
  type StreamEvent,
  StreamEventSchema,
  type StreamInfo,
} from "@airwave/proto";
import { createSecretScrubber, extractTrace, type SecretScrubber, type TraceCarrier, validateGenerateRequest } from "@airwave/proto/server";
import type { Context, Span } from "@opentelemetry/api";
import { Generation, type CancelSource } from "../generation/generation.js";
import type { InferenceClient } from "../grpc-inference-client.js";
import { LogReader } from "../log/follow-log.js";
import { MemoryLogStore } from "../log/memory-log-store.js";
import { resolveResume } from "../log/resume.js";
import type { StreamLog, StreamLogStore } from "../log/stream-log.js";
import { Admission, type LoopLoad, monitorEventLoop } from "../admission.js";
import { OwnerLimits } from "../owner-limits.js";
import { within } from "../within.js";
import type { GatewayMetrics, Transport } from "../metrics/gateway-metrics.js";
import { GenerationMeter, resumeOutcomeName, WatchMeter } from "../metrics/stream-meter.js";
import {
  endSpan,
  GenerationTrace,
  type LifecycleLogger,
  startCreateSpan,
  startWatchSpan,
  traceFields,
  traceparentOf,
} from "../tracing/stream-trace.js";
import { agentFilter } from "./agent-filter.js";
import { coalesceInterval } from "./coalesce-interval.js";
import { answerInput, STREAM_ENDED } from "./input-answer.js";
import { Lifetimes } from "./lifetimes.js";
import type { Cluster, HeldStream, StreamEntry } from "./cluster.js";
import { type RemoteRecord, type StreamRecord, streamInfo, streamKey } from "./stream-record.js";

/**
 * Limits and timings of the hub, in ms, events and bytes; see GatewayConfig
 * for the defaults the gateway uses. An optional limit left out is off.
 */
export interface HubOptions {
  /** Grace period after the last watcher left (on_detach CANCEL_AFTER_GRACE). */
  detachGraceMs: number;
  /** How long an ended stream keeps its events for replay. */
  streamTtlMs: number;
  /**
   * How long an expired stream's id, owner and terminal event are kept after
   * its TTL, so a late resume gets `resumed(EXPIRED)` and the terminal event
   * rather than NOT_FOUND. Default 0: removed at the TTL.
   */
  expiredTtlMs?: number;
  /** Events kept per stream. */
  logMaxEvents: number;
  /** Bytes kept per stream (binary encoding); default: no limit. */
  logMaxBytes?: number;
  /** Bytes kept by all streams together; default 0: no limit. Ignored with {@link logs}. */
  logTotalMaxBytes?: number;
  /** Streams held at once (running or ended, not expired). */
  maxStreams: number;
  /** Total deadline of one generation. */
  generationTimeoutMs: number;
  /** Request → first content event; default 0: off. */
  firstTokenTimeoutMs?: number;
  /** Longest silence between events after the first content; default 0: off. */
  stallTimeoutMs?: number;
  /**
   * A watcher that finds more than this many events ready when it reads is
   * lagging and gets adjacent deltas coalesced; default 0: never.
   */
  coalesceLagEvents?: number;
  /** Where logs come from; default: a {@link MemoryLogStore} with the limits above. Ignored with {@link cluster}. */
  logs?: StreamLogStore;
  /**
   * Several replicas sharing streams (AIRWAVE_REDIS_URL): logs and the
   * registry are shared, any replica serves any watch, cancel and input
   * reach the replica that runs the stream. Default: this process alone.
   */
  cluster?: Cluster;
  /**
   * The gateway's own secrets (its API keys, the cookie secret), removed
   * with credential-shaped strings from the inference service's text before
   * it is logged or sent (see Generation's `scrub`). Default none.
   */
  secrets?: readonly (string | undefined)[];
  /** Running streams per owner (OWNER_STREAM_LIMIT); default 0 = no limit. */
  ownerMaxStreams?: number;
  /** Stream starts per owner per second, a token bucket (OWNER_RATE_LIMITED); default 0 = no limit. */
  ownerStartsPerS?: number;
  /** The bucket's size: starts an owner may make at once. */
  ownerStartsBurst?: number;
  /**
   * Admission control (`admission.ts`; `maxStreams` is always checked): new
   * streams are refused with OVERLOADED while the event-loop delay of the
   * last window is over this, in ms; default 0: not measured.
   */
  admissionMaxLoopDelayMs?: number;
  /** Refused (OVERLOADED) while the event loop was busy more than this percentage of the last window; default 0: not measured. */
  admissionMaxLoopBusyPercent?: number;
  /** The event loop's window (delay and utilization), in ms; default 100. */
  admissionWindowMs?: number;
  /** Refused (OVERLOADED) while this many watches are open; default 0: no limit. */
  admissionMaxWatches?: number;
  /** Refused (OVERLOADED) while the running streams' logs hold this percentage of `logTotalMaxBytes` (memory log only); default 0: off. */
  admissionLogPercent?: number;
  /** The `retry-after-ms` of an admission refusal, in ms; default 1000. */
  admissionRetryAfterMs?: number;
  /** Where the event loop's delay and utilization come from; default {@link monitorEventLoop} when either threshold is set (tests pass their own). */
  loopLoad?: LoopLoad;
  /** Where the streams' metrics go (`/metrics`); default none. */
  metrics?: GatewayMetrics;
  /** Where the streams' lifecycle lines go (created, first token, detached, resumed, cancelled, ended); default none. */
  log?: LifecycleLogger;
}

/** Options of {@link Hub.create}. */
export interface CreateOptions {
  /** The transport of the call, for metrics and traces; default `connect`. */
  readonly transport?: Transport;
  /** The caller's W3C trace context (`traceparent`, `tracestate`): request headers, or a message's fields. */
  readonly trace?: TraceCarrier | undefined;
}

/** Options of {@link Hub.watch}. */
export interface WatchOptions {
  /**
   * Only events of these agents (`agent_id`; "" is the main agent); events of
   * the whole stream (started, usage, completed, failed, resumed, heartbeat)
   * always pass. Empty or undefined: every event. At most
   * {@link agentFilterLimits}.maxIds ids of at most `maxIdChars` characters.
   */
  readonly agentIds?: readonly string[] | undefined;
  /**
   * Coalescing interval, in ms (`coalesce_ms`): live, the watch reads the
   * log at most once per interval and merges each read's adjacent deltas
   * (same text, exact cursors, up to this much later). 0 or undefined: none.
   * A whole number of at most {@link coalesceLimits}.maxMs.
   */
  readonly coalesceMs?: number | undefined;
  /** The transport of the watch, for metrics and traces; default `connect`. */
  readonly transport?: Transport;
  /** The watcher's W3C trace context (`traceparent`, `tracestate`): request headers, or a message's fields. */
  readonly trace?: TraceCarrier | undefined;
}

/** After the generations ended at shutdown, how long watchers may take to read their last events, in ms. */
const shutdownFlushMs = 1_000;

/** How long a cancel sent to another replica may take to show as the stream's end, in ms; it is resent every second meanwhile. */
const remoteCancelMs = 10_000;

/** How long an idempotent create waits for another replica's stream with the same id to start, in ms. */
const remoteStartMs = 30_000;

/** Counts of what the hub holds, for metrics and tests. */
export interface HubStats {
  /** Streams held and not expired. */
  streams: number;
  /** Expired streams still known (terminal event only). */
  expired: number;
  /** Generations still running. */
  running: number;
  /** Open watches. */
  watchers: number;
  /** Timers armed (grace periods and expiries). */
  timers: number;
  /** Bytes retained by the logs. */
  logBytes: number;
  /** Events retained by the logs of the streams held here. */
  logEvents: number;
}

/**
 * The hub owns every stream: its log, its generation and its watchers.
 * Transports call only {@link create}, {@link watch}, {@link cancel},
 * {@link sendInput} and {@link get}: one resume lookup, one watch loop, one
 * input check, for every transport.
 *
 * A facade over small parts: the stream's record and info
 * (`stream-record.ts`), its lifetimes (`lifetimes.ts`: detach policy,
 * grace, TTL, expiry), the input rules (`input-answer.ts`), the agent
 * filter (`agent-filter.ts`), the owner limits (`owner-limits.ts`), the log
 * and its resume (`log/`) and the generation (`generation/`).
 *
 * A foreign stream id and an unknown one get the same NOT_FOUND (README "Owners").
 */
export class Hub {
  /** Keyed by {@link streamKey}: (owner, id), so ids are scoped to their owner. */
  readonly #streams = new Map<string, StreamRecord>();
  /** Views of streams other replicas run, while calls here use them (with a cluster). */
  readonly #remote = new Map<string, Promise<RemoteRecord>>();
  readonly #cluster: Cluster | undefined;
  /** Generations running (what `maxStreams` bounds; ended streams do not count). */
  #running = 0;
  readonly #limits: OwnerLimits;
  readonly #admission: Admission;
  readonly #loop: LoopLoad | undefined;
  readonly #lifetimes: Lifetimes;
  readonly #logs: StreamLogStore;
  /** Aborts the generations still running at the shutdown deadline. */
  readonly #shutdown = new AbortController();
  /** Aborts the watches still waiting for events after the generations ended. */
  readonly #closing = new AbortController();
  #draining = false;
  #watchers = 0;
  /** Resolved when the last watcher leaves (shutdown waits on them). */
  readonly #onIdle = new Set<() => void>();
  readonly #scrub: SecretScrubber;

  constructor(
    private readonly upstream: InferenceClient,
    private readonly o: HubOptions,
  ) {
    this.#scrub = createSecretScrubber(o.secrets);
    this.#lifetimes = new Lifetimes(
      { detachGraceMs: o.detachGraceMs, streamTtlMs: o.streamTtlMs, expiredTtlMs: o.expiredTtlMs ?? 0, maxExpired: o.maxStreams },
      {
        isHeld: (rec) => this.#streams.get(streamKey(rec.owner, rec.id)) === rec,
        forget: (rec) => {
          if (this.#streams.get(streamKey(rec.owner, rec.id)) !== rec) return;
          this.#streams.delete(streamKey(rec.owner, rec.id));
          this.#logs.release(rec.log);
          this.#cluster?.forget(rec.owner, rec.id);
        },
      },
    );
    this.#limits = new OwnerLimits({
      maxStreams: o.ownerMaxStreams ?? 0,
      startsPerS: o.ownerStartsPerS ?? 0,
      startsBurst: o.ownerStartsBurst ?? 0,
    });
    const maxDelay = o.admissionMaxLoopDelayMs ?? 0;
    const maxBusy = (o.admissionMaxLoopBusyPercent ?? 0) / 100;
    this.#loop = o.loopLoad ?? (maxDelay > 0 || maxBusy > 0 ? monitorEventLoop(o.admissionWindowMs ?? 100) : undefined);
    const logPercent = o.cluster || o.logs ? 0 : (o.admissionLogPercent ?? 0);
    this.#admission = new Admission(
      {
        maxStreams: o.maxStreams,
        maxLoopDelayMs: maxDelay,
        maxLoopUtilization: maxBusy,
        maxWatchers: o.admissionMaxWatches ?? 0,
        maxLogBytes: Math.floor(((o.logTotalMaxBytes ?? 0) * logPercent) / 100),
        retryAfterMs: o.admissionRetryAfterMs ?? 1_000,
      },
      this.#loop,
      o.metrics && ((signal) => o.metrics?.admissionRefused(signal)),
    );
    o.metrics?.observeAdmission(() => ({
      overloaded: this.#admission.overloaded(this.#load()) !== undefined,
      loopDelayMs: this.#admission.loopDelayMs,
      loopUtilization: this.#admission.loopUtilization,
    }));
    this.#cluster = o.cluster;
    this.#cluster?.serve({
      cancel: (owner, id) => this.#streams.get(streamKey(owner, id))?.generation.cancel("client"),
      sendInput: async (owner, req) => this.#answerHere(owner, req),
      watching: (owner, id, from, n) => this.#watchedFrom(owner, id, from, n),
      held: () => this.#heldStreams(),
    });
    o.metrics?.observeHub(() => {
      const s = this.stats;
      return { running: s.running, streams: s.streams, logBytes: s.logBytes, logEvents: s.logEvents };
    });
    this.#logs =
      o.cluster?.logs ??
      o.logs ??
      new MemoryLogStore({
        maxEvents: o.logMaxEvents,
        maxBytes: o.logMaxBytes ?? Number.POSITIVE_INFINITY,
        maxTotalBytes: o.logTotalMaxBytes ?? 0,
      });
  }

  /** What admission control reads on every create: counters, no walk over the streams. */
  #load() {
    const logs = this.#logs;
    return { running: this.#running, watchers: this.#watchers, logBytes: logs instanceof MemoryLogStore ? logs.runningBytes : 0 };
  }

  /** Where the streams' metrics go, if anywhere (the transports add theirs). */
  get metrics(): GatewayMetrics | undefined {
    return this.o.metrics;
  }

  /** Number of streams held (running or ended, not yet expired). */
  get size(): number {
    return this.#streams.size - this.#lifetimes.expiredCount;
  }

  /** What the hub holds now. */
  get stats(): HubStats {
    let running = 0;
    let timers = 0;
    let logEvents = 0;
    for (const r of this.#streams.values()) {
      if (r.generation.running) running++;
      timers += this.#lifetimes.timersOf(r);
      if (r.log.top >= r.log.first) logEvents += r.log.top - r.log.first + 1;
    }
    return {
      streams: this.size,
      expired: this.#lifetimes.expiredCount,
      running,
      watchers: this.#watchers,
      timers,
      logBytes: this.#logs.totalBytes,
      logEvents,
    };
  }

  /**
   * Starts a generation, or attaches to the caller's existing stream with the
   * same client-chosen id. Resolves once the inference service accepted the
   * request (its `started` event is logged), so a refused request is an RPC
   * error, not a stream.
   *
   * Client-chosen ids are scoped to the owner: the same id from another owner
   * is another stream. Raises INVALID_ARGUMENT (bad request or stream id,
   * `coalesce_ms` outside {@link coalesceLimits}: checked here, before the
   * generation starts, for the create's own watch),
   * RESOURCE_EXHAUSTED with `airwave-reason` and `retry-after-ms`
   * (GATEWAY_STREAM_LIMIT: maxStreams running; OVERLOADED: the measured
   * load of `admission.ts`, event-loop delay and utilization, open watches, the running
   * streams' log memory; OWNER_STREAM_LIMIT, OWNER_RATE_LIMITED: the owner's
   * limits; or, without a reason, the log's total memory is held by running
   * streams; retryable; an existing stream's id is never refused), UNAVAILABLE
   * (the gateway is shutting down, retryable elsewhere; with a cluster,
   * Redis is unreachable or the id's earlier stream is being removed;
   * retryable), and the inference
   * service's refusal (NOT_FOUND for an unknown model, UNAVAILABLE,
   * DEADLINE_EXCEEDED when no first token came in time).
   */
  async create(owner: string, req: CreateStreamRequest, o: CreateOptions = {}): Promise<string> {
    const { span, ctx } = startCreateSpan(extractTrace(o.trace), req.streamId, req.request?.model ?? "", o.transport ?? "connect");
    try {
      coalesceInterval(req.coalesceMs);
      const id = await this.#create(owner, req, { ...o, ctx }, true);
      span.setAttribute("airwave.stream.id", id);
      endSpan(span);
      return id;
    } catch (e) {
      endSpan(span, e);
      throw e;
    }
  }

  /** {@link create} (`o.ctx`: its span's context); `rejoin`: a claim whose stream is not found may be taken as gone and created once more. */
  async #create(owner: string, req: CreateStreamRequest, o: CreateOptions & { ctx: Context }, rejoin: boolean): Promise<string> {
    if (!req.request) throw new ConnectError("request: a GenerateRequest is required", Code.InvalidArgument);
    validateGenerateRequest(req.request);
    if (req.streamId !== "" && !isValidStreamId(req.streamId)) {
      throw new ConnectError("stream_id: must match [A-Za-z0-9_-]{22,128}", Code.InvalidArgument);
    }
    // Client-chosen ids are scoped to their owner: another owner's stream
    // with the same id is another stream, never an answer (no existence oracle).
    const existing = req.streamId === "" ? undefined : this.#streams.get(streamKey(owner, req.streamId));
    if (existing) {
      await existing.generation.accepted;
      return req.streamId;
    }
    if (this.#draining) throw shuttingDown();
    this.#admission.admit(this.#load()); // measured load: refused before the id, the owner's bucket, the log or the upstream
    const id = req.streamId || newStreamId();
    await this.#limits.admit(owner);
    if (this.#streams.has(streamKey(owner, id)) || this.#draining) {
      this.#limits.ended(owner); // a concurrent create of the same id won, or shutdown began
      return this.#create(owner, req, o, rejoin);
    }
    let log: StreamLog;
    let entry: StreamEntry | undefined;
    const createdBy = traceparentOf(o.ctx);
    try {
      if (this.#cluster) ({ log, entry } = await this.#claim(owner, id, req, createdBy));
      else log = this.#logs.create(id);
    } catch (e) {
      this.#limits.ended(owner);
      if (e instanceof ClaimedElsewhere) return this.#join(owner, req, o, id, e.here, rejoin);
      throw e;
    }
    if (this.#streams.has(streamKey(owner, id)) || this.#draining) {
      // Claiming took a round trip: a concurrent create here won, or shutdown began.
      this.#limits.ended(owner);
      this.#logs.release(log);
      this.#cluster?.forget(owner, id);
      return this.#create(owner, req, o, rejoin);
    }
    const createdAtMs = Date.now();
    const meter = this.o.metrics && new GenerationMeter(this.o.metrics, createdAtMs);
    const traced = new GenerationTrace(o.ctx, {
      streamId: id,
      model: req.request.model,
      owner,
      transport: o.transport ?? "connect",
      log: this.o.log,
    });
    const generation = new Generation(
      this.upstream,
      req.request,
      log,
      {
        timeoutMs: this.o.generationTimeoutMs,
        firstTokenTimeoutMs: this.o.firstTokenTimeoutMs ?? 0,
        stallTimeoutMs: this.o.stallTimeoutMs ?? 0,
      },
      this.#shutdown.signal,
      this.#scrub,
      {
        onAppended: (e) => {
          meter?.appended(e);
          traced.appended(e);
        },
        headers: traced.headers,
      },
    );
    const rec: StreamRecord = {
      id,
      owner,
      model: req.request.model,
      createdAtMs,
      onDetach: req.onDetach,
      log,
      generation,
      watchers: 0,
      ...(entry ? { entry } : {}),
      ...(meter ? { meter } : {}),
      createdBy,
    };
    this.#streams.set(streamKey(owner, id), rec);
    this.#running++;
    this.o.metrics?.streamStarted(o.transport ?? "connect");
    void generation.done.then(() => {
      meter?.ended(log.terminal, generation.stopped);
      traced.ended(log.terminal, generation.stopped);
      this.#running--;
      this.#limits.ended(owner);
      this.#cluster?.ended(owner, id);
      this.#lifetimes.ended(rec);
    });
    try {
      await generation.accepted;
    } catch (e) {
      await generation.done;
      this.#lifetimes.remove(rec);
      throw e;
    }
    // A creator that never attaches (it left before the first event) must
    // not leave an orphan generation: it gets the grace period like any
    // detach. The creator's watch, attaching right after, clears it.
    if (rec.watchers === 0 && rec.onDetach !== OnDetach.CONTINUE) this.#lifetimes.armGrace(rec);
    return id;
  }

  /**
   * Watches a stream strictly after `cursor` (text form `"<epoch>:<seq>"`;
   * empty = from the first event). Ends after the terminal event.
   *
   * The first message: with a cursor, always `resumed`, saying whether the
   * resume is exact (RECOVERED) or why not (TRIMMED, EXPIRED, EPOCH_CHANGED,
   * UNKNOWN_CURSOR) and the cursor the watch continues after (see
   * {@link resolveResume}); from the start, `resumed` only when the first
   * events are no longer kept. Never a silent gap, never a duplicate after
   * the cursor.
   *
   * The returned iterable pulls from the log at the consumer's pace (the
   * backpressure); a watcher holds at most one bounded read batch.
   * A watcher that finds more than `coalesceLagEvents` events ready gets
   * adjacent deltas coalesced (same text, fewer events, exact cursors); so
   * does every read of a watch with `o.coalesceMs`, which reads at most
   * once per that interval while it is live.
   *
   * With `o.agentIds`, events of other agents are skipped (see
   * {@link WatchOptions}); the rest keep the log's order and positions, so
   * a resume from the last delivered cursor, with the same filter, is exact.
   *
   * Raises, on the first pull: NOT_FOUND (unknown, foreign or long-expired
   * stream), INVALID_ARGUMENT (malformed cursor, an agent filter over
   * {@link agentFilterLimits}, or `coalesceMs` outside {@link coalesceLimits}). Later: ABORTED (retryable;
   * the watcher fell so far behind that the events it was to read next were
   * trimmed: resume from the last cursor), UNAVAILABLE (retryable; the
   * gateway shuts down), or the signal's reason when `signal` aborts (the
   * watcher left; the generation goes on as its on_detach policy says).
   */
  async *watch(owner: string, streamId: string, cursor: string, signal: AbortSignal, o: WatchOptions = {}): AsyncGenerator<StreamEvent> {
    const transport = o.transport ?? "connect";
    let span: Span | undefined;
    let failed: unknown;
    let rec: StreamRecord | RemoteRecord;
    let start: ReturnType<typeof resolveResume>;
    try {
      const pass = agentFilter(o.agentIds); // raises for a bad filter
      const intervalMs = coalesceInterval(o.coalesceMs); // raises for a bad interval
      if (this.#closing.signal.aborted) throw shuttingDown();
      rec = await this.#acquire(owner, streamId);
      try {
        start = resolveResume(rec.log, cursor);
      } catch (e) {
        this.#release(rec);
        throw e;
      }
      span = startWatchSpan(extractTrace(o.trace), streamId, transport, rec.createdBy);
      // A long-poll's every poll has a cursor: polling, not resuming.
      const resumedAs = cursor !== "" && start.notice && transport !== "long_poll" ? resumeOutcomeName(start.notice.outcome) : undefined;
      if (resumedAs) {
        span.addEvent("resumed", { "airwave.resume.outcome": resumedAs });
        this.o.log?.info({ stream_id: streamId, owner, transport, outcome: resumedAs, cursor, ...traceFields(span) }, "stream resumed");
      }
      yield* this.#follow(rec, start, resumedAs, pass, intervalMs, transport, signal);
    } catch (e) {
      if (!signal.aborted) {
        failed = e;
        this.o.metrics?.watchFailed(transport, e);
      }
      throw e;
    } finally {
      if (span) endSpan(span, failed); // also when the watcher left (closed early): no error
    }
  }

  /** The watch loop of {@link watch}, once the stream and the resume point are known; `resumedAs`: the outcome of a resume. */
  async *#follow(
    rec: StreamRecord | RemoteRecord,
    start: ReturnType<typeof resolveResume>,
    resumedAs: string | undefined,
    pass: (e: StreamEvent) => boolean,
    intervalMs: number,
    transport: Transport,
    signal: AbortSignal,
  ): AsyncGenerator<StreamEvent> {
    const m = this.o.metrics;
    const meter = m && new WatchMeter(m, transport, rec, isRemote(rec) ? undefined : rec.meter?.provider);
    if (meter && resumedAs) meter.resuming(resumedAs, rec.log.top, start.after);
    this.#attach(rec);
    // The watcher leaving or the hub closing ends a wait (with that
    // signal's reason). Aborting `stop` at the end removes its listeners,
    // so the hub's long-lived signal collects nothing.
    const stop = createLinkedAbortController(signal, this.#closing.signal);
    try {
      if (start.notice) {
        const notice = resumed(start.notice.outcome, start.notice.cursor);
        meter?.delivered(notice, rec.log.top);
        yield notice;
      }
      // followLog, a batch at a time: one generator step per event (this one), not two.
      const reader = new LogReader(rec.log, start.after, {
        signal: stop.signal,
        coalesceLagEvents: this.o.coalesceLagEvents ?? 0,
        intervalMs,
      });
      let merged = 0;
      for (let batch = await reader.next(); batch !== undefined; batch = await reader.next()) {
        if (meter && reader.merged !== merged) {
          meter.coalesced(reader.merged - merged);
          merged = reader.merged;
        }
        for (const e of batch) {
          if (!pass(e)) continue;
          meter?.delivered(e, rec.log.top);
          yield e;
        }
      }
    } finally {
      stop.abort();
      meter?.closed();
      this.#detach(rec);
      this.#release(rec);
    }
  }

  /**
   * Cancels a stream: aborts the upstream call at once; the stream ends with
   * `completed(CANCELLED)` and the usage known so far. Idempotent. Raises
   * NOT_FOUND for an unknown or foreign stream.
   */
  async cancel(owner: string, streamId: string, source: CancelSource = "client"): Promise<StreamInfo> {
    const rec = await this.#acquire(owner, streamId);
    try {
      if (isRemote(rec)) {
        await this.#cancelElsewhere(rec);
      } else {
        rec.generation.cancel(source);
        await rec.generation.done;
      }
      return streamInfo(rec);
    } finally {
      this.#release(rec);
    }
  }

  /**
   * Answers a pending `input_requested` of a running stream and passes the
   * answer to the generation on its Interact call (the generation then logs
   * `input_answered`). Resolves with the input_id answered, once passed on.
   *
   * `req.inputId` empty answers the only pending input. The answer must fit
   * the request: CONFIRM "yes" or "no" (any case; passed on lower-case),
   * CHOICE one of `choices` (exact, or the only one equal ignoring case;
   * passed on as listed), TEXT (and unspecified) any non-empty text. At most
   * `inputLimits.maxTextBytes` bytes (`input-answer.ts`).
   *
   * Pending inputs are derived from the logged events (Generation
   * tracks `input_requested` / `input_answered` as it appends them) and an
   * answer is marked at once when passed on, so of two racing answers to the
   * same input exactly one wins; the other gets INPUT_NOT_PENDING.
   *
   * Raises NOT_FOUND (unknown or foreign stream); FAILED_PRECONDITION with
   * `airwave-reason` STREAM_ENDED (the stream ended) or INPUT_NOT_PENDING
   * (no such input is waiting: unknown, already answered, or none pending
   * for an empty input_id); INVALID_ARGUMENT (an answer the request does not
   * allow, a text over the cap, an input_id over 128 characters, or an empty
   * input_id while several inputs are pending).
   */
  async sendInput(owner: string, req: SendInputRequest): Promise<string> {
    const rec = await this.#acquire(owner, req.streamId);
    try {
      if (!isRemote(rec)) return answerInput(rec.generation, rec.log.ended, req);
      if (rec.log.ended) return this.#answerHere(owner, req); // STREAM_ENDED, as the owner would say
      return await (this.#cluster as Cluster).sendInput(rec.replicaId, owner, req);
    } finally {
      this.#release(rec);
    }
  }

  /**
   * The stream's state. On a replica that does not run the stream,
   * `watchers` counts this replica's watchers. Raises NOT_FOUND for an
   * unknown or foreign stream; UNAVAILABLE (retryable) when the shared
   * registry cannot be reached.
   */
  async get(owner: string, streamId: string): Promise<StreamInfo> {
    const rec = await this.#acquire(owner, streamId);
    try {
      if (isRemote(rec)) await (this.#cluster as Cluster).logs.refresh(rec.log);
      return streamInfo(rec);
    } finally {
      this.#release(rec);
    }
  }

  /**
   * Graceful shutdown (SIGTERM; README "Configuration", AIRWAVE_SHUTDOWN_GRACE_MS):
   * 1. at once, new streams are refused with UNAVAILABLE (retryable
   *    elsewhere); watches of existing streams still work (their clients
   *    may resume here until the end);
   * 2. running generations may finish for `graceMs`;
   * 3. those still running then end with `failed(UNAVAILABLE,
   *    GATEWAY_SHUTDOWN, retryable)` (the upstream call is aborted): every
   *    watcher reads it as its last event, the retry hint in-band;
   * 4. watchers get up to 1 s (at most `graceMs`) to read their last events;
   *    any watch still waiting then ends with UNAVAILABLE, and every timer
   *    is cleared.
   * Resolves when done; idempotent.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#draining = true;
    const running = [...this.#streams.values()].filter((r) => r.generation.running).map((r) => r.generation.done);
    await within(Promise.all(running), graceMs);
    if (!this.#shutdown.signal.aborted) this.#shutdown.abort(shuttingDown());
    await Promise.all([...this.#streams.values()].map((r) => r.generation.done));
    let idle: (() => void) | undefined;
    await within(
      new Promise<void>((resolve) => {
        idle = resolve;
        if (this.#watchers === 0) resolve();
        else this.#onIdle.add(resolve);
      }),
      Math.min(shutdownFlushMs, graceMs),
    );
    if (idle) this.#onIdle.delete(idle);
    if (!this.#closing.signal.aborted) this.#closing.abort(shuttingDown());
    this.#lifetimes.close(this.#streams.values());
    this.#loop?.close();
    await this.#cluster?.close();
  }

  /** Shuts down at once: every running generation ends now (see {@link shutdown}). */
  close(): Promise<void> {
    return this.shutdown(0);
  }

  /**
   * The stream run here, or (with a cluster) a view of the one another
   * replica runs: pair with {@link #release}. Raises NOT_FOUND for an
   * unknown or foreign stream.
   */
  async #acquire(owner: string, streamId: string): Promise<StreamRecord | RemoteRecord> {
    const key = streamKey(owner, streamId);
    const rec = this.#streams.get(key);
    if (rec) return rec;
    if (!this.#cluster) throw notFound();
    let opening = this.#remote.get(key);
    if (!opening) {
      opening = this.#openRemote(this.#cluster, owner, streamId);
      this.#remote.set(key, opening);
      opening.catch(() => this.#remote.get(key) === opening && this.#remote.delete(key));
    }
    const remote = await opening;
    remote.refs++;
    return remote;
  }

  async #openRemote(cluster: Cluster, owner: string, streamId: string): Promise<RemoteRecord> {
    const entry = await cluster.lookup(owner, streamId);
    // A registry entry of this replica with no stream here is one being
    // started or removed: never a view, whose release would delete the keys.
    if (!entry || entry.replicaId === cluster.replicaId) throw notFound();
    const log = await cluster.logs.open(streamId, entry.logId);
    if (!log) throw notFound();
    return {
      id: streamId,
      owner,
      model: entry.model,
      createdAtMs: entry.createdAtMs,
      log,
      watchers: 0,
      replicaId: entry.replicaId,
      refs: 0,
      createdBy: entry.createdBy,
    };
  }

  /** A call is done with `rec`; the last one releases a remote view (once no call picked it up meanwhile). */
  #release(rec: StreamRecord | RemoteRecord): void {
    if (!isRemote(rec) || --rec.refs > 0) return;
    const key = streamKey(rec.owner, rec.id);
    const held = this.#remote.get(key);
    setImmediate(() => {
      if (rec.refs > 0 || this.#remote.get(key) !== held) return;
      this.#remote.delete(key);
      this.#logs.release(rec.log);
    });
  }

  /**
   * Claims (owner, id) in the shared registry with a new log. Raises
   * {@link ClaimedElsewhere} when another replica's stream holds the id.
   */
  async #claim(owner: string, id: string, req: CreateStreamRequest, createdBy: string): Promise<{ log: StreamLog; entry: StreamEntry }> {
    const cluster = this.#cluster as Cluster;
    const log = cluster.logs.create(id);
    const entry: StreamEntry = {
      logId: log.logId,
      replicaId: cluster.replicaId,
      model: req.request?.model ?? "",
      createdAtMs: Date.now(),
      onDetach: req.onDetach,
      ...(createdBy ? { createdBy } : {}),
    };
    let held: StreamEntry | undefined;
    try {
      held = await cluster.claim(owner, id, entry);
    } catch (e) {
      cluster.logs.release(log);
      throw e;
    }
    if (!held) return { log, entry };
    cluster.logs.release(log);
    throw new ClaimedElsewhere(held.replicaId === cluster.replicaId);
  }

  /**
   * An idempotent create of a stream another replica (or, `here`, a
   * concurrent call on this one) started: waits for its `started`. A claim
   * that went away meanwhile (its create failed, or the stream ended and was
   * removed) makes this call create the stream again.
   */
  async #join(
    owner: string,
    req: CreateStreamRequest,
    o: CreateOptions & { ctx: Context },
    id: string,
    here: boolean,
    rejoin: boolean,
  ): Promise<string> {
    // The concurrent create here resumes from its claim before the next turn.
    if (here) await new Promise<void>((resolve) => setImmediate(resolve));
    let rec: StreamRecord | RemoteRecord;
    try {
      rec = await this.#acquire(owner, id);
    } catch (e) {
      if (ConnectError.from(e).code !== Code.NotFound) throw e;
      if (!rejoin) throw new ConnectError("a stream with this stream_id is starting or being removed; retry", Code.Unavailable);
      return this.#create(owner, req, o, false);
    }
    try {
      if (!isRemote(rec)) await rec.generation.accepted;
      else if (rec.log.top === 0 && !rec.log.ended) await rec.log.wait(0, AbortSignal.timeout(remoteStartMs));
      return id;
    } finally {
      this.#release(rec);
    }
  }

  /** Sends the cancel to the replica that runs the stream until its end shows in the log. */
  async #cancelElsewhere(rec: RemoteRecord): Promise<void> {
    const cluster = this.#cluster as Cluster;
    const deadline = Date.now() + remoteCancelMs;
    let sentAt = 0;
    while (!rec.log.ended) {
      if (Date.now() > deadline) throw new ConnectError("the replica running this stream did not stop it; retry", Code.Unavailable);
      if (Date.now() - sentAt >= 1_000) {
        sentAt = Date.now();
        if (!(await cluster.cancel(rec.replicaId, rec.owner, rec.id))) {
          await cluster.logs.refresh(rec.log);
          if (rec.log.ended) return;
          throw new ConnectError("the replica running this stream is unreachable; retry", Code.Unavailable);
        }
      }
      await rec.log.wait(rec.log.top, AbortSignal.timeout(1_000)).catch(() => {});
      await cluster.logs.refresh(rec.log); // a view learns the end from a read, not from the live hint
    }
  }

  /** An input answer for a stream run here (from this replica or another). */
  #answerHere(owner: string, req: SendInputRequest): string {
    const rec = this.#streams.get(streamKey(owner, req.streamId));
    if (!rec) {
      throw new ConnectError("the stream has ended; no input can reach it", Code.FailedPrecondition, { "airwave-reason": STREAM_ENDED });
    }
    return answerInput(rec.generation, rec.log.ended, req);
  }

  /** The streams held here with their registry entries (with a cluster). */
  *#heldStreams(): Iterable<HeldStream> {
    for (const r of this.#streams.values()) if (r.entry) yield { owner: r.owner, streamId: r.id, entry: r.entry, log: r.log };
  }

  /** Replica `from` reports `n` watchers of a stream run here: they count for its detach policy. */
  #watchedFrom(owner: string, id: string, from: string, n: number): void {
    const rec = this.#streams.get(streamKey(owner, id));
    if (!rec) return;
    rec.remoteWatchers ??= new Map();
    const delta = n - (rec.remoteWatchers.get(from) ?? 0);
    if (n > 0) rec.remoteWatchers.set(from, n);
    else rec.remoteWatchers.delete(from);
    rec.watchers += delta;
    if (delta > 0) this.#lifetimes.attached(rec);
    else if (delta < 0) this.#lifetimes.detached(rec);
  }

  #attach(rec: StreamRecord | RemoteRecord): void {
    rec.watchers++;
    this.#watchers++;
    if (isRemote(rec)) (this.#cluster as Cluster).watching(rec.replicaId, rec.owner, rec.id, rec.watchers);
    else this.#lifetimes.attached(rec);
  }

  /** The last watcher leaving applies the stream's on_detach policy (README "Lifetimes"). */
  #detach(rec: StreamRecord | RemoteRecord): void {
    rec.watchers--;
    if (--this.#watchers === 0) for (const resolve of this.#onIdle) resolve();
    if (isRemote(rec)) (this.#cluster as Cluster).watching(rec.replicaId, rec.owner, rec.id, rec.watchers);
    else {
      if (rec.watchers === 0 && rec.generation.running) {
        this.o.log?.info({ stream_id: rec.id, owner: rec.owner, on_detach: OnDetach[rec.onDetach]?.toLowerCase() }, "stream detached");
      }
      this.#lifetimes.detached(rec);
    }
  }
}

/** Another stream holds the id being created (see `Hub.create`); `here`: one of this replica. */
class ClaimedElsewhere extends Error {
  constructor(readonly here: boolean) {
    super("the stream id is claimed");
  }
}

function isRemote(rec: StreamRecord | RemoteRecord): rec is RemoteRecord {
  return "replicaId" in rec;
}

function notFound(): ConnectError {
  return new ConnectError("stream not found", Code.NotFound);
}

function shuttingDown(): ConnectError {
  return new ConnectError("the gateway is shutting down; retry", Code.Unavailable);
}

function resumed(outcome: ResumeOutcome, cursor: string): StreamEvent {
  return create(StreamEventSchema, { event: { case: "resumed", value: { outcome, cursor } } });
}
