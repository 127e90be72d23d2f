/**
 * What both servers (the inference service and the gateway) share at their
 * edges, Node only: the contract's request rules (`validateGenerateRequest`),
 * the secret scrubber every text from outside passes, the gRPC health
 * service, the refusal of malformed Protobuf with a fixed message, the
 * spec-conformant `grpc-message` encoding, and the event-loop slice of long
 * synchronous loops. Imported as `@airwave/proto/server`; the browser never
 * loads it.
 */
export { ConfigError, type Env, envNumber, envText, envUrl, type NumberBounds, startOrExit } from "./env.js";
export { eventLoopSlice, eventLoopSliceMinSteps, eventLoopSliceMs } from "./event-loop-slice.js";
export { encodeGrpcMessage, reencodeGrpcMessage, withSpecGrpcMessage } from "./grpc-message.js";
export { createHealthService, createHealthState, type HealthState } from "./health.js";
export {
  compressedEnvelopeMessage,
  malformedProtobufMessage,
  malformedRequestMessage,
  refuseMalformedProtobuf,
} from "./refuse-malformed-protobuf.js";
export { scrubCause, scrubConnectError, scrubEvent } from "./scrub-event.js";
export {
  createSecretScrubber,
  maxRequestIdLength,
  minSecretLength,
  redactedText,
  safeRequestId,
  type SecretScrubber,
} from "./scrub-secrets.js";
export { generateRequestLimits, toolNamePattern, validateGenerateRequest } from "./validate-generate-request.js";
export { createMetricsRegistry } from "./metrics-registry.js";
export { registerReflection } from "./reflection.js";
export { extractTrace, type TraceCarrier, traceHeaders } from "./trace-context.js";
export { answerUnknownGrpcProcedure } from "./unknown-procedure.js";
