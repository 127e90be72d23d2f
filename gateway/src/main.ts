#!/usr/bin/env node
/**
 * Runs the gateway alone, against the inference service that
 * `AIRWAVE_INFERENCE_URL` names (`node services/dist/main.js` or a
 * deployment of it), and prints its URL; see {@link runGateway} for the
 * shutdown. Without `AIRWAVE_INFERENCE_URL` it prints one line saying so and
 * exits 2: the embedded default (simulator, one process) is `npm start`,
 * whose composition root (`start.ts` at the repository's top) starts both.
 */
import "@airwave/proto/server/supported-node";
import { loadGatewayConfig } from "./config.js";
import { runGateway } from "./run-gateway.js";

const cfg = loadGatewayConfig();
if (!cfg.inferenceUrl) {
  console.error(
    "airwave gateway: AIRWAVE_INFERENCE_URL is not set: point it at a running inference service (node services/dist/main.js), or run `npm start` for both in one process",
  );
  process.exit(2);
}
await runGateway({ config: { ...cfg, inferenceUrl: cfg.inferenceUrl } });
