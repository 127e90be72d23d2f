#!/usr/bin/env node
/**
 * Runs the inference service with the configuration from the environment
 * (see `loadConfig`) and prints its URL; a malformed configuration is one
 * line on stderr and exit code 2. SIGINT and SIGTERM close it.
 * @module
 */
import "@airwave/proto/server/supported-node";
import { startOrExit } from "@airwave/proto/server";
import { startTracing } from "@airwave/proto/server/tracing";
import { startInferenceServer } from "./server.js";

// OpenTelemetry from the OTEL_* variables; off when none is set (docs/observability.md).
const stopTracing = await startTracing("airwave-inference");
const server = await startOrExit(() => startInferenceServer());
console.log(`airwave inference service listening on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server
      .close()
      .then(() => stopTracing?.())
      .then(() => process.exit(0));
  });
}
