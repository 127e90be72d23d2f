import { FinishReason, fromProtoCode, type StreamEvent } from "@airwave/proto";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createMetricsRegistry } from "@airwave/proto/server";
import { Counter, Gauge, Histogram } from "prom-client";
import type { AdmissionSignal } from "../admission.js";

/**
 * How a client reaches a stream, the `transport` label: Connect, gRPC and
 * gRPC-Web (the `StreamService`), the HTTP routes (`sse`, `ndjson`,
 * `long_poll`), the WebSocket session, the OpenAI-compatible routes and the
 * AI SDK routes.
 */
export type Transport = "connect" | "grpc" | "grpc_web" | "sse" | "ndjson" | "long_poll" | "websocket" | "openai" | "ai_sdk";

/** Why a generation was stopped before its end, the `source` label of the cancel metrics. */
export type CancelMetricSource = "client" | "detach" | "deadline" | "shutdown";

/** What a hub reports when scraped. */
export interface HubGauges {
  /** Generations still running. */
  readonly running: number;
  /** Streams held (running or ended, not expired). */
  readonly streams: number;
  /** Bytes retained by the logs this process holds. */
  readonly logBytes: number;
  /** Events retained by those logs. */
  readonly logEvents: number;
}

/** What a hub's admission control reports when scraped. */
export interface AdmissionGauges {
  /** A new stream would be refused now. */
  readonly overloaded: boolean;
  /** The event-loop delay of the last window, in ms (0 when not measured). */
  readonly loopDelayMs: number;
  /** The event loop's utilization in the last window, 0..1 (0 when not measured). */
  readonly loopUtilization: number;
}

/** A counter's or histogram's child for one label set (prom-client's). */
interface Inc {
  inc(n?: number): void;
}
interface Observe {
  observe(v: number): void;
}

/** The token latency histograms of one provider, bound to their label sets. */
export interface TokenTimes {
  readonly firstLog: Observe;
  readonly firstClient: Observe;
  readonly interLog: Observe;
  readonly interClient: Observe;
}

/** At most this many distinct `provider` label values; later ones are counted as `other`. */
export const maxProviderLabels = 32;

const ttftBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const itlBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const shortBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const redisBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * The gateway's Prometheus metrics (prom-client), one registry ({@link createMetricsRegistry}) per
 * gateway, served at `/metrics` (docs/observability.md lists them). Names
 * and units follow the Prometheus conventions (`_total`, `_seconds`,
 * `_bytes`); every label has a bounded set of values: transports, event
 * kinds, Connect code names, resume outcomes, cancel sources, and provider
 * names capped at {@link maxProviderLabels} (never stream ids, owners or
 * models).
 *
 * The methods are the hot path's: a label set's child is looked up once
 * and cached, so an event costs a `Map` lookup and an increment.
 */
export class GatewayMetrics {
  readonly registry = createMetricsRegistry();
  readonly #started: Counter<"transport">;
  readonly #ended: Counter<"provider" | "outcome">;
  readonly #delivered: Counter<"transport" | "kind">;
  readonly #bytes: Counter<"transport">;
  readonly #watches: Gauge<"transport">;
  readonly #ttft: Histogram<"provider" | "point">;
  readonly #itl: Histogram<"provider" | "point">;
  readonly #resumes: Counter<"outcome">;
  readonly #resumeSeconds: Histogram<"outcome">;
  readonly #cancels: Counter<"source">;
  readonly #cancelSeconds: Histogram<"source">;
  readonly #slowCloses: Counter<"transport">;
  readonly #coalesced: Counter;
  readonly #heartbeats: Counter<"transport">;
  readonly #watchErrors: Counter<"transport" | "code">;
  readonly #redisSeconds: Histogram;
  readonly #redisErrors: Counter;
  readonly #ownerLost: Counter;
  readonly #admissionRefusals: Counter<"reason">;
  readonly #admission: (() => AdmissionGauges)[] = [];
  readonly #providers = new Set<string>();
  readonly #tokenTimes = new Map<string, TokenTimes>();
  readonly #deliveredBy = new Map<Transport, Map<string | undefined, Inc>>();
  readonly #bytesBy = new Map<Transport, Inc>();
  readonly #heartbeatsBy = new Map<Transport, Inc>();
  readonly #gauges: (() => HubGauges | undefined)[] = [];

  constructor() {
    const registers = [this.registry];
    const gauges = () => this.#gauges.map((g) => g()).filter((g): g is HubGauges => g !== undefined);
    const sum = (pick: (g: HubGauges) => number) => gauges().reduce((n, g) => n + pick(g), 0);
    new Gauge({
      name: "airwave_streams_running",
      help: "Generations running on this gateway (it holds their upstream call).",
      registers,
      collect() {
        this.set(sum((g) => g.running));
      },
    });
    new Gauge({
      name: "airwave_streams_held",
      help: "Streams this gateway holds, running or ended and not yet expired.",
      registers,
      collect() {
        this.set(sum((g) => g.streams));
      },
    });
    new Gauge({
      name: "airwave_log_held_events",
      help: "Events retained by the logs of the streams this gateway holds.",
      registers,
      collect() {
        this.set(sum((g) => g.logEvents));
      },
    });
    new Gauge({
      name: "airwave_log_held_bytes",
      help: "Bytes of events retained by the logs this gateway holds (Protobuf binary size).",
      registers,
      collect() {
        this.set(sum((g) => g.logBytes));
      },
    });
    const admission = () => this.#admission.map((a) => a());
    new Gauge({
      name: "airwave_admission_overloaded",
      help: "1 while new streams are refused (RESOURCE_EXHAUSTED, airwave-reason OVERLOADED or GATEWAY_STREAM_LIMIT), else 0.",
      registers,
      collect() {
        this.set(admission().some((a) => a.overloaded) ? 1 : 0);
      },
    });
    new Gauge({
      name: "airwave_admission_event_loop_delay_seconds",
      help: "The event-loop delay admission control read last: the 90th percentile lateness of the last window (AIRWAVE_ADMISSION_WINDOW_MS).",
      registers,
      collect() {
        this.set(Math.max(0, ...admission().map((a) => a.loopDelayMs)) / 1000);
      },
    });
    new Gauge({
      name: "airwave_admission_event_loop_utilization_ratio",
      help: "The event loop's utilization admission control read last: the share of the last window it was busy, 0..1.",
      registers,
      collect() {
        this.set(Math.max(0, ...admission().map((a) => a.loopUtilization)));
      },
    });
    this.#admissionRefusals = new Counter({
      name: "airwave_admission_refusals_total",
      help: "New streams refused by admission control, by reason: max_streams, event_loop_delay, event_loop_utilization, watches, log_memory.",
      labelNames: ["reason"],
      registers,
    });
    this.#started = new Counter({
      name: "airwave_streams_started_total",
      help: "Streams created, by the transport of the create call.",
      labelNames: ["transport"],
      registers,
    });
    this.#ended = new Counter({
      name: "airwave_streams_ended_total",
      help: "Streams ended on this gateway: outcome completed, cancelled, or the Connect code of the failure.",
      labelNames: ["provider", "outcome"],
      registers,
    });
    this.#delivered = new Counter({
      name: "airwave_events_delivered_total",
      help: "Stream events delivered to watchers, by transport and event kind (snake_case, as in the proto).",
      labelNames: ["transport", "kind"],
      registers,
    });
    this.#bytes = new Counter({
      name: "airwave_sent_bytes_total",
      help: "Bytes of stream responses written to clients (SSE, NDJSON, long-poll, WebSocket, OpenAI and AI SDK routes).",
      labelNames: ["transport"],
      registers,
    });
    this.#watches = new Gauge({
      name: "airwave_watches_active",
      help: "Watches open now, by transport.",
      labelNames: ["transport"],
      registers,
    });
    this.#ttft = new Histogram({
      name: "airwave_time_to_first_token_seconds",
      help: "From the create call to the first text, reasoning or tool-call event: point=log where it enters the log, point=client where it leaves to the first watcher.",
      labelNames: ["provider", "point"],
      buckets: ttftBuckets,
      registers,
    });
    this.#itl = new Histogram({
      name: "airwave_inter_token_seconds",
      help: "Between two token events of a stream: point=log as they enter the log, point=client as a caught-up watcher receives them.",
      labelNames: ["provider", "point"],
      buckets: itlBuckets,
      registers,
    });
    this.#resumes = new Counter({
      name: "airwave_resumes_total",
      help: "Watches with a cursor, by outcome: recovered (exact), trimmed, expired, epoch_changed, unknown_cursor.",
      labelNames: ["outcome"],
      registers,
    });
    this.#resumeSeconds = new Histogram({
      name: "airwave_resume_duration_seconds",
      help: "From a watch with a cursor to its first event after the cursor (or its resumed notice when nothing was to replay).",
      labelNames: ["outcome"],
      buckets: shortBuckets,
      registers,
    });
    this.#cancels = new Counter({
      name: "airwave_cancels_total",
      help: "Generations stopped before their end, by source: client, detach (grace ran out), deadline, shutdown.",
      labelNames: ["source"],
      registers,
    });
    this.#cancelSeconds = new Histogram({
      name: "airwave_cancel_duration_seconds",
      help: "From the cancel to the generation's end (the upstream call aborted and the terminal event logged).",
      labelNames: ["source"],
      buckets: shortBuckets,
      registers,
    });
    this.#slowCloses = new Counter({
      name: "airwave_slow_watcher_closes_total",
      help: "Watches closed because the client did not drain a write within the write deadline.",
      labelNames: ["transport"],
      registers,
    });
    this.#coalesced = new Counter({
      name: "airwave_coalesced_events_total",
      help: "Delta events merged into their neighbours for watchers that were behind (same text, fewer events).",
      registers,
    });
    this.#heartbeats = new Counter({
      name: "airwave_heartbeats_total",
      help: "Heartbeats sent to idle watches, by transport.",
      labelNames: ["transport"],
      registers,
    });
    this.#watchErrors = new Counter({
      name: "airwave_watch_errors_total",
      help: "Watches that ended with an error, by transport and Connect code.",
      labelNames: ["transport", "code"],
      registers,
    });
    this.#redisSeconds = new Histogram({
      name: "airwave_redis_command_duration_seconds",
      help: "Round trip of the stream log's Redis commands (AIRWAVE_REDIS_URL).",
      buckets: redisBuckets,
      registers,
    });
    this.#redisErrors = new Counter({
      name: "airwave_redis_errors_total",
      help: "Stream log Redis commands that failed.",
      registers,
    });
    this.#ownerLost = new Counter({
      name: "airwave_owner_lost_streams_total",
      help: "Running streams of a dead replica this one ended with failed(UNAVAILABLE, OWNER_LOST).",
      registers,
    });
  }

  /** Adds a hub's figures to what a scrape reports (`undefined`: it has none now). */
  observeHub(gauges: () => HubGauges | undefined): void {
    this.#gauges.push(gauges);
  }

  /** Adds a hub's admission state to what a scrape reports. */
  observeAdmission(gauges: () => AdmissionGauges): void {
    this.#admission.push(gauges);
  }

  /** Admission control refused a new stream because of `signal`. */
  admissionRefused(signal: AdmissionSignal): void {
    this.#admissionRefusals.labels(signal).inc();
  }

  /** The metrics in the Prometheus text format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The `provider` label for a `started.provider` value (capped). */
  provider(name: string): string {
    if (this.#providers.has(name)) return name;
    if (this.#providers.size >= maxProviderLabels || name === "") return "other";
    this.#providers.add(name);
    return name;
  }

  streamStarted(transport: Transport): void {
    this.#started.labels(transport).inc();
  }

  /** A stream's terminal event is in its log. */
  streamEnded(provider: string, terminal: StreamEvent | undefined): void {
    const t = terminal?.event;
    let outcome = "unknown";
    if (t?.case === "failed") outcome = codeToString(fromProtoCode(t.value.code));
    else if (t?.case === "completed") outcome = t.value.finishReason === FinishReason.CANCELLED ? "cancelled" : "completed";
    this.#ended.labels(provider, outcome).inc();
  }

  /** The time to first token and inter-token histograms of `provider` (a {@link provider} label), in seconds. */
  tokenTimes(provider: string): TokenTimes {
    let t = this.#tokenTimes.get(provider);
    if (!t) {
      t = {
        firstLog: this.#ttft.labels(provider, "log"),
        firstClient: this.#ttft.labels(provider, "client"),
        interLog: this.#itl.labels(provider, "log"),
        interClient: this.#itl.labels(provider, "client"),
      };
      this.#tokenTimes.set(provider, t);
    }
    return t;
  }

  delivered(transport: Transport, e: StreamEvent): void {
    let byKind = this.#deliveredBy.get(transport);
    if (!byKind) this.#deliveredBy.set(transport, (byKind = new Map()));
    const k = e.event.case;
    let child = byKind.get(k);
    if (!child) {
      child = this.#delivered.labels(transport, k === undefined ? "unknown" : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
      byKind.set(k, child);
    }
    child.inc();
  }

  sentBytes(transport: Transport, n: number): void {
    let child = this.#bytesBy.get(transport);
    if (!child) this.#bytesBy.set(transport, (child = this.#bytes.labels(transport)));
    child.inc(n);
  }

  watchOpened(transport: Transport): void {
    this.#watches.labels(transport).inc();
  }

  watchClosed(transport: Transport): void {
    this.#watches.labels(transport).dec();
  }

  /** A watch ended with `err` (or was refused before it opened: NOT_FOUND, INVALID_ARGUMENT…). */
  watchFailed(transport: Transport, err: unknown): void {
    this.#watchErrors.labels(transport, codeToString(ConnectError.from(err).code)).inc();
  }

  resumed(outcome: string, seconds: number): void {
    this.#resumes.labels(outcome).inc();
    this.#resumeSeconds.labels(outcome).observe(seconds);
  }

  cancelled(source: CancelMetricSource, seconds: number): void {
    this.#cancels.labels(source).inc();
    this.#cancelSeconds.labels(source).observe(seconds);
  }

  slowWatcherClosed(transport: Transport): void {
    this.#slowCloses.labels(transport).inc();
  }

  coalesced(n: number): void {
    if (n > 0) this.#coalesced.inc(n);
  }

  heartbeat(transport: Transport): void {
    let child = this.#heartbeatsBy.get(transport);
    if (!child) this.#heartbeatsBy.set(transport, (child = this.#heartbeats.labels(transport)));
    child.inc();
  }

  redisCommand(seconds: number, ok: boolean): void {
    this.#redisSeconds.observe(seconds);
    if (!ok) this.#redisErrors.inc();
  }

  ownerLost(): void {
    this.#ownerLost.inc();
  }
}
