import { fromProtoCode, type StreamEvent } from "@airwave/proto";
import { extractTrace, traceHeaders } from "@airwave/proto/server";
import { type Context, isSpanContextValid, type Link, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { CancelSource } from "../generation/generation.js";
import type { Transport } from "../metrics/gateway-metrics.js";
import { isToken } from "../metrics/stream-meter.js";

const tracer = trace.getTracer("@airwave/gateway");

/**
 * Where the stream lifecycle lines go: pino's `info(object, message)` (or
 * anything with that shape). Each line carries `stream_id`, `owner` (the
 * owner's name: `key:<API key name>`, `bearer:<digest>`, `browser:<id>` or
 * `anonymous`; never a key), and `trace_id` / `span_id` when traced.
 */
export interface LifecycleLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/** `trace_id` and `span_id` of a span, for a log line (nothing when tracing is off). */
export function traceFields(span: Span): { trace_id?: string; span_id?: string } {
  const c = span.spanContext();
  return isSpanContextValid(c) ? { trace_id: c.traceId, span_id: c.spanId } : {};
}

/** The span of a create call (`airwave.v1.StreamService/CreateStream`, whatever the transport), child of the caller's trace context. */
export function startCreateSpan(parent: Context, streamId: string, model: string, transport: Transport): { span: Span; ctx: Context } {
  const span = tracer.startSpan(
    "airwave.v1.StreamService/CreateStream",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": "connect_rpc",
        "rpc.service": "airwave.v1.StreamService",
        "rpc.method": "CreateStream",
        "airwave.transport": transport,
        "airwave.stream.id": streamId,
        "gen_ai.request.model": model,
      },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends a span with the error's Connect code, or OK. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    const e = ConnectError.from(err);
    span.setAttribute("rpc.connect_rpc.error_code", codeToString(e.code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.rawMessage });
  }
  span.end();
}

/** The W3C `traceparent` of a span (what a resume's watch links to, on any replica); empty when tracing is off. */
export function traceparentOf(ctx: Context): string {
  return traceHeaders(ctx).traceparent ?? "";
}

/**
 * The span of one generation (`airwave.generation`), child of its create
 * call's span, from the upstream call to the terminal event: span events
 * `first_token`, `cancel` (with its source) and `terminal` (kind and code);
 * status ERROR for a `failed` end. Its context goes to the inference
 * service as gRPC metadata ({@link headers}). The same steps are the
 * stream's lifecycle log lines (`stream created`, `first token`, `stream
 * cancelled`, `stream ended`), with the span's ids.
 */
export class GenerationTrace {
  readonly #span: Span;
  readonly #ctx: Context;
  readonly #log: LifecycleLogger | undefined;
  readonly #fields: Record<string, unknown>;
  readonly #startMs = Date.now();
  #firstToken = false;

  constructor(
    parent: Context,
    o: { streamId: string; model: string; owner: string; transport: Transport; log?: LifecycleLogger | undefined },
  ) {
    this.#span = tracer.startSpan(
      "airwave.generation",
      { kind: SpanKind.CLIENT, attributes: { "airwave.stream.id": o.streamId, "gen_ai.request.model": o.model } },
      parent,
    );
    this.#ctx = trace.setSpan(parent, this.#span);
    this.#log = o.log;
    this.#fields = { stream_id: o.streamId, owner: o.owner, transport: o.transport, ...traceFields(this.#span) };
    this.#log?.info({ ...this.#fields, model: o.model }, "stream created");
  }

  /** `traceparent` and `tracestate` of this span, for the call to the inference service. */
  get headers(): Record<string, string> {
    return traceHeaders(this.#ctx);
  }

  /** An event is in the log. */
  appended(e: StreamEvent): void {
    if (e.event.case === "started") {
      this.#span.setAttribute("gen_ai.provider.name", e.event.value.provider);
      this.#span.setAttribute("gen_ai.response.model", e.event.value.model);
    } else if (!this.#firstToken && isToken(e)) {
      this.#firstToken = true;
      this.#span.addEvent("first_token", { "airwave.seq": Number(e.seq) });
      this.#log?.info({ ...this.#fields, ttft_ms: Date.now() - this.#startMs }, "first token");
    }
  }

  /** The generation ended with `terminal`, stopped by `stop` when it was. */
  ended(terminal: StreamEvent | undefined, stop?: { source: CancelSource | "deadline"; atMs: number }): void {
    if (stop) {
      this.#span.addEvent("cancel", { "airwave.cancel.source": stop.source }, stop.atMs);
      this.#log?.info({ ...this.#fields, source: stop.source, cancel_ms: Date.now() - stop.atMs }, "stream cancelled");
    }
    const t = terminal?.event;
    const took = { duration_ms: Date.now() - this.#startMs };
    if (t?.case === "failed") {
      const code = codeToString(fromProtoCode(t.value.code));
      this.#span.addEvent("terminal", { "airwave.event.kind": "failed", "airwave.code": code, "airwave.reason": t.value.reason });
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      this.#log?.info({ ...this.#fields, ...took, outcome: "failed", code, reason: t.value.reason }, "stream ended");
    } else if (t?.case === "completed") {
      const finishReasons = [String(t.value.finishReason)];
      this.#span.addEvent("terminal", { "airwave.event.kind": "completed", "gen_ai.response.finish_reasons": finishReasons });
      this.#log?.info({ ...this.#fields, ...took, outcome: "completed", finish_reason: t.value.finishReason }, "stream ended");
    }
    this.#span.end();
  }
}

/**
 * The span of one watch (`airwave.v1.StreamService/WatchStream`), child of
 * the watcher's trace context and linked to the stream's creation
 * (`createdBy`, a traceparent, from any replica); a resume adds a `resumed`
 * event with its outcome. End it with {@link endSpan}.
 */
export function startWatchSpan(parent: Context, streamId: string, transport: Transport, createdBy: string | undefined): Span {
  const created = createdBy ? trace.getSpanContext(extractTrace({ traceparent: createdBy })) : undefined;
  const links: Link[] = created ? [{ context: created, attributes: { "airwave.link": "stream.created" } }] : [];
  return tracer.startSpan(
    "airwave.v1.StreamService/WatchStream",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": "connect_rpc",
        "rpc.service": "airwave.v1.StreamService",
        "rpc.method": "WatchStream",
        "airwave.transport": transport,
        "airwave.stream.id": streamId,
      },
      links,
    },
    parent,
  );
}
