import { createMetricsRegistry } from "@airwave/proto/server";
import { Counter, Gauge, Histogram } from "prom-client";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Code } from "@connectrpc/connect";

/**
 * What an HTTP provider reports about its upstream calls (see
 * `createHttpProvider`'s `meter`), labelled by provider kind
 * (`openai-chat`, `anthropic`, …: the routing file's `kind`).
 */
export interface UpstreamMeter {
  /** An HTTP request to the upstream was sent (each attempt, retries included). */
  request(kind: string): void;
  /** A failed attempt is retried. */
  retry(kind: string): void;
  /** The upstream answered with its response headers after `seconds` (time to first byte of the response). */
  firstByte(kind: string, seconds: number): void;
  /** An upstream call failed before its stream started, with `code` (after the retries). */
  error(kind: string, code: Code): void;
}

const ttfbBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The inference service's Prometheus metrics (prom-client), one
 * registry ({@link createMetricsRegistry}) per server, served on `AIRWAVE_SERVICES_METRICS_PORT`
 * at `/metrics` (docs/observability.md). Labels: provider kinds and
 * Connect code names only (bounded).
 */
export class ServicesMetrics implements UpstreamMeter {
  readonly registry = createMetricsRegistry();
  readonly #requests: Counter<"provider_kind">;
  readonly #retries: Counter<"provider_kind">;
  readonly #errors: Counter<"provider_kind" | "code">;
  readonly #ttfb: Histogram<"provider_kind">;
  readonly #generations: Gauge;
  readonly #generated: Counter<"code">;

  constructor() {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "airwave_upstream_requests_total",
      help: "HTTP requests sent to model providers (each attempt), by provider kind.",
      labelNames: ["provider_kind"],
      registers,
    });
    this.#retries = new Counter({
      name: "airwave_upstream_retries_total",
      help: "Upstream attempts retried after a retryable failure (before the stream started), by provider kind.",
      labelNames: ["provider_kind"],
      registers,
    });
    this.#errors = new Counter({
      name: "airwave_upstream_errors_total",
      help: "Upstream calls that failed before their stream started (after the retries), by provider kind and Connect code.",
      labelNames: ["provider_kind", "code"],
      registers,
    });
    this.#ttfb = new Histogram({
      name: "airwave_upstream_time_to_first_byte_seconds",
      help: "From sending an upstream request to its response headers, by provider kind.",
      labelNames: ["provider_kind"],
      buckets: ttfbBuckets,
      registers,
    });
    this.#generations = new Gauge({
      name: "airwave_generations_active",
      help: "Generate and Interact calls running now.",
      registers,
    });
    this.#generated = new Counter({
      name: "airwave_generations_total",
      help: "Generate and Interact calls ended, by Connect code (ok for a stream that ended with its terminal event).",
      labelNames: ["code"],
      registers,
    });
  }

  request(kind: string): void {
    this.#requests.labels(kind).inc();
  }

  retry(kind: string): void {
    this.#retries.labels(kind).inc();
  }

  firstByte(kind: string, seconds: number): void {
    this.#ttfb.labels(kind).observe(seconds);
  }

  error(kind: string, code: Code): void {
    this.#errors.labels(kind, codeToString(code)).inc();
  }

  /** A generation began; call the returned function once with its end (`code` undefined: ended normally). */
  generation(): (code?: Code) => void {
    this.#generations.inc();
    let ended = false;
    return (code) => {
      if (ended) return;
      ended = true;
      this.#generations.dec();
      this.#generated.labels(code === undefined ? "ok" : codeToString(code)).inc();
    };
  }
}
