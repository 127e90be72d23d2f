#!/usr/bin/env node
/**
 * Runs the inference service with the configuration from the environment
 * (see `loadConfig`) and prints its URL. SIGINT and SIGTERM close it.
 * @module
 */
import "@airwave/proto/server/supported-node";
import { startInferenceServer } from "./server.js";

const server = await startInferenceServer();
console.log(`airwave inference service listening on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
