export { type GatewayConfig, loadGatewayConfig } from "./config.js";
export { type Gateway, startGateway } from "./server.js";
export { runGateway, type RunGatewayOptions } from "./run-gateway.js";
export { Hub, type HubOptions, type HubStats } from "./hub/hub.js";
export { withHeartbeats, HEARTBEAT } from "./stream/heartbeat.js";
export { MemoryStreamLog } from "./log/memory-stream-log.js";
export { MemoryLogStore } from "./log/memory-log-store.js";
export type { ReadLimits, StreamLog, StreamLogStore } from "./log/stream-log.js";
