export { type GatewayConfig, loadGatewayConfig } from "./config.js";
export { type Gateway, startGateway } from "./server.js";
export { Hub, type HubOptions } from "./hub.js";
export { withHeartbeats, HEARTBEAT } from "./heartbeat.js";
export { MemoryStreamLog } from "./log/memory-stream-log.js";
export type { StreamLog } from "./log/stream-log.js";
