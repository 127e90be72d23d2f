import { fromProtoCode, type StreamEvent } from "@airwave/proto";
import { extractTrace, traceHeaders } from "@airwave/proto/server";
import { type Context, type Link, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { CancelSource } from "../generation/generation.js";
import type { Transport } from "../metrics/gateway-metrics.js";
import { isToken } from "../metrics/stream-meter.js";

const tracer = trace.getTracer("@airwave/gateway");

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
 * service as gRPC metadata ({@link headers}).
 */
export class GenerationTrace {
  readonly #span: Span;
  readonly #ctx: Context;
  #firstToken = false;

  constructor(parent: Context, streamId: string, model: string) {
    this.#span = tracer.startSpan(
      "airwave.generation",
      { kind: SpanKind.CLIENT, attributes: { "airwave.stream.id": streamId, "gen_ai.request.model": model } },
      parent,
    );
    this.#ctx = trace.setSpan(parent, this.#span);
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
    }
  }

  /** The generation ended with `terminal`, stopped by `stop` when it was. */
  ended(terminal: StreamEvent | undefined, stop?: { source: CancelSource | "deadline"; atMs: number }): void {
    if (stop) this.#span.addEvent("cancel", { "airwave.cancel.source": stop.source }, stop.atMs);
    const t = terminal?.event;
    if (t?.case === "failed") {
      const code = codeToString(fromProtoCode(t.value.code));
      this.#span.addEvent("terminal", { "airwave.event.kind": "failed", "airwave.code": code, "airwave.reason": t.value.reason });
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    } else if (t?.case === "completed") {
      this.#span.addEvent("terminal", {
        "airwave.event.kind": "completed",
        "gen_ai.response.finish_reasons": [String(t.value.finishReason)],
      });
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
