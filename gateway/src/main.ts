#!/usr/bin/env node
/**
 * Runs Airwave: the gateway, and (unless AIRWAVE_INFERENCE_URL points at a
 * running inference service) the embedded inference service with the
 * simulator. Prints the URL; stops on SIGINT/SIGTERM.
 */
import { startInferenceServer } from "@airwave/services";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./server.js";

const cfg = loadGatewayConfig();
const embedded = cfg.inferenceUrl ? undefined : await startInferenceServer();
const gateway = await startGateway({ ...cfg, inferenceUrl: cfg.inferenceUrl ?? (embedded as { url: string }).url });
console.log(`Airwave is running at ${gateway.url}/`);
console.log(`  inference service: ${cfg.inferenceUrl ?? `${embedded?.url} (embedded, simulator)`}`);

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void Promise.all([gateway.close(), embedded?.close()]).then(() => process.exit(0));
  });
}
