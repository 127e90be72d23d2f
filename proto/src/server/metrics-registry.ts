import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A prom-client {@link Registry} with the default Node process metrics
 * (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 * `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, …) that
 * `promtool check metrics` accepts: without prom-client's three gauges named
 * like counters (`nodejs_active_handles_total`, `nodejs_active_requests_total`,
 * `nodejs_active_resources_total`); their counts stay by type as
 * `nodejs_active_handles`, `nodejs_active_requests`, `nodejs_active_resources`.
 * One per process's metrics (the gateway's and the inference service's).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
  return registry;
}
