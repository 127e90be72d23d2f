#!/usr/bin/env node
/**
 * Airwave in one process, the embedded default of `npm start`: the gateway
 * and, unless `AIRWAVE_INFERENCE_URL` points at a running inference service,
 * the inference service with the simulator (in-memory log, no Redis).
 * Prints the URL; a malformed configuration is one line on stderr and exit
 * code 2. The composition root: `@airwave/gateway` does not depend
 * on `@airwave/services`; only this module puts them together.
 *
 * On SIGTERM/SIGINT the gateway drains (`runGateway`), then the embedded
 * inference service closes, and the process exits 0.
 */
import "@airwave/proto/server/supported-node";
import { loadGatewayConfig, runGateway } from "@airwave/gateway";
import { startOrExit } from "@airwave/proto/server";
import { startTracing } from "@airwave/proto/server/tracing";
import { startInferenceServer } from "@airwave/services";

await startOrExit(async () => {
  const cfg = loadGatewayConfig();
  // OpenTelemetry from the OTEL_* variables; off when none is set (docs/observability.md).
  const stopTracing = await startTracing("airwave");
  const embedded = cfg.inferenceUrl ? undefined : await startInferenceServer();
  const inferenceUrl = cfg.inferenceUrl ?? (embedded as { url: string }).url;
  return runGateway({
    config: { ...cfg, inferenceUrl },
    inferenceLabel: embedded ? `${embedded.url} (embedded, simulator)` : inferenceUrl,
    afterClose: async () => {
      await embedded?.close();
      await stopTracing?.();
    },
  });
});
