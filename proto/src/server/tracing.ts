/**
 * Starts OpenTelemetry tracing for a process, for its entry point only
 * (libraries use `@opentelemetry/api` alone): the Node SDK, configured by
 * the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
 * `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`…; see the OpenTelemetry SDK
 * environment variable specification), with W3C trace context and baggage
 * propagation. Traces only: metrics are Prometheus (`/metrics`), and no
 * OTLP metrics or logs exporter is started.
 *
 * Off (nothing loaded, the API's no-op tracer) unless one of
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_TRACES_EXPORTER` (other than `none`) is set, or `OTEL_SDK_DISABLED`
 * is `true`. Imported as `@airwave/proto/server/tracing`.
 * @module
 */
import type { Env } from "./env.js";

/** True when the environment asks for traces (see the module's TSDoc). */
export function tracingWanted(env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || exporter);
}

/**
 * Starts the SDK when {@link tracingWanted}; `serviceName` unless
 * `OTEL_SERVICE_NAME` says otherwise. Resolves with the function that
 * flushes and stops it (call it before the process exits), or undefined
 * when tracing is off.
 */
export async function startTracing(serviceName: string, env: Env = process.env): Promise<(() => Promise<void>) | undefined> {
  if (!tracingWanted(env)) return undefined;
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME?.trim() ? {} : { serviceName }),
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}
