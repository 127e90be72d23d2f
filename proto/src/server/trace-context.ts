import { type Context, context, propagation, ROOT_CONTEXT, type TextMapGetter } from "@opentelemetry/api";

/** Where a W3C trace context is read from: Fetch `Headers` (Connect, gRPC), Node's incoming headers, or a plain record (a message's fields). */
export type TraceCarrier = Headers | Readonly<Record<string, string | string[] | undefined>>;

const getter: TextMapGetter<TraceCarrier> = {
  keys: (c) => (c instanceof Headers ? [...c.keys()] : Object.keys(c)),
  get(c, key) {
    if (c instanceof Headers) return c.get(key) ?? undefined;
    const v = c[key] ?? c[key.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  },
};

/**
 * The trace context a request carries (`traceparent`, `tracestate`, and
 * `baggage`, W3C Trace Context and Baggage), through the registered
 * propagator; the root context when it carries none or tracing is off.
 */
export function extractTrace(carrier: TraceCarrier | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
}

/** The headers that carry `ctx` (default: the active context) to the next hop: `traceparent` and friends; empty when tracing is off. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  return out;
}
