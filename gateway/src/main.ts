#!/usr/bin/env node
/**
 * Runs the gateway alone, against the inference service that
 * `AIRWAVE_INFERENCE_URL` names (`node services/dist/main.js` or a
 * deployment of it), and prints its URL; see {@link runGateway} for the
 * shutdown. A malformed configuration, or no `AIRWAVE_INFERENCE_URL`, is one
 * line on stderr and exit code 2: the embedded default (simulator, one process) is `npm start`,
 * whose composition root (`start.ts` at the repository's top) starts both.
 */
import "@airwave/proto/server/supported-node";
import { ConfigError, startOrExit } from "@airwave/proto/server";
import { startTracing } from "@airwave/proto/server/tracing";
import { loadGatewayConfig } from "./config.js";
import { runGateway } from "./run-gateway.js";

await startOrExit(() => {
  const cfg = loadGatewayConfig();
  if (!cfg.inferenceUrl) {
    throw new ConfigError(
      "AIRWAVE_INFERENCE_URL is not set: point it at a running inference service (node services/dist/main.js), or run `npm start` for both in one process",
    );
  }
  const inferenceUrl = cfg.inferenceUrl;
  // OpenTelemetry from the OTEL_* variables; off when none is set (docs/observability.md).
  return startTracing("airwave-gateway").then((stopTracing) =>
    runGateway({ config: { ...cfg, inferenceUrl }, afterClose: async () => stopTracing?.() }),
  );
});
