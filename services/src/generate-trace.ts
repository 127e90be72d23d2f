import { fromProtoCode, isTerminal, type StreamEvent } from "@airwave/proto";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("@airwave/services");

/**
 * The span of one Generate or Interact call
 * (`airwave.v1.InferenceService/<method>`), child of the trace context the
 * gateway sent as gRPC metadata: `gen_ai.*` attributes from the `started`
 * event, span events `first_token` and `terminal` (kind and code), status
 * ERROR for a refusal or a `failed` end. Its {@link context} is the parent
 * of the upstream request's span. Ends once.
 */
export class GenerateTrace {
  readonly #span: Span;
  readonly context: Context;
  #firstToken = false;
  #ended = false;

  constructor(parent: Context, method: string, model: string) {
    this.#span = tracer.startSpan(
      `airwave.v1.InferenceService/${method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": "airwave.v1.InferenceService",
          "rpc.method": method,
          "gen_ai.request.model": model,
        },
      },
      parent,
    );
    this.context = trace.setSpan(parent, this.#span);
  }

  /** An event the call sends. */
  event(e: StreamEvent): void {
    const k = e.event.case;
    if (k === "started") {
      this.#span.setAttribute("gen_ai.provider.name", e.event.value.provider);
      this.#span.setAttribute("gen_ai.response.model", e.event.value.model);
    } else if (!this.#firstToken && (k === "textDelta" || k === "reasoningDelta" || k === "toolCallStarted" || k === "toolCallDelta")) {
      this.#firstToken = true;
      this.#span.addEvent("first_token");
    } else if (isTerminal(e)) {
      const t = e.event;
      if (t.case === "failed") {
        const code = codeToString(fromProtoCode(t.value.code));
        this.#span.addEvent("terminal", { "airwave.event.kind": "failed", "airwave.code": code, "airwave.reason": t.value.reason });
        this.#span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      } else if (t.case === "completed") {
        this.#span.addEvent("terminal", {
          "airwave.event.kind": "completed",
          "gen_ai.response.finish_reasons": [String(t.value.finishReason)],
        });
      }
    }
  }

  /** Ends the span, with `err` when the call ended with an error. */
  end(err?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (err !== undefined) {
      const e = ConnectError.from(err);
      this.#span.setAttribute("rpc.grpc.status_code", e.code);
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: codeToString(e.code) });
    }
    this.#span.end();
  }
}
