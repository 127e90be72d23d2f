/**
 * Runs the example chat: the inference service (simulator) and a gateway
 * that serves example/dist/ at "/". Needs `npm run build` (the gateway's
 * dist) and `node example/build.mjs`; `npm run example -w @airwave/react`
 * does the latter and starts it. Configured like `npm start` (AIRWAVE_*).
 */
import { fileURLToPath } from "node:url";
import { type GatewayConfig, loadGatewayConfig, runGateway } from "@airwave/gateway";
import { startInferenceServer } from "@airwave/services";

// Its own ephemeral port, so it never collides with an `npm start` running beside it.
const services = await startInferenceServer({ host: "127.0.0.1", port: 0 });
const config: GatewayConfig & { inferenceUrl: string; webDir: string } = {
  ...loadGatewayConfig(),
  inferenceUrl: services.url,
  webDir: fileURLToPath(new URL("dist/", import.meta.url)),
};
await runGateway({ config, inferenceLabel: `${services.url} (embedded, simulator)`, afterClose: () => services.close() });
