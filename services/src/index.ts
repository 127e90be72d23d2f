/**
 * Airwave inference services: provider adapters and the built-in simulator,
 * served over gRPC as `airwave.v1.InferenceService`.
 */
export { adapt, type Mapper } from "./adapt.js";
export { defaultServicesConfig, loadConfig, type ServicesConfig } from "./config.js";
export { createProviders } from "./create-providers.js";
export { delay, type Sleep } from "@airwave/proto";
export { createHealthService, createHealthState, type HealthState } from "./health.js";
export { createInferenceService, guardProviderStream } from "./inference-service.js";
export type { Provider } from "./provider.js";
export { resolveModel, type ResolvedModel } from "./resolve-model.js";
export { closeGraceMs, type InferenceServer, type InferenceServerOptions, startInferenceServer } from "./server.js";
export { generateRequestLimits, toolNamePattern, validateGenerateRequest } from "./validate-generate-request.js";
export { decodeOpenAIStream } from "./providers/openai-compatible/decode-openai-stream.js";
export { openAIChatChunkMapper } from "./providers/openai-compatible/map-openai-chunk.js";
export {
  createOpenAICompatibleProvider,
  defaultOpenAIBaseUrl,
  type OpenAICompatibleProviderOptions,
} from "./providers/openai-compatible/openai-compatible-provider.js";
export { toOpenAIRequest } from "./providers/openai-compatible/to-openai-request.js";
export { simulate, simulationSeed } from "./providers/simulator/simulate.js";
export { simulatorMetadataKeys } from "./providers/simulator/simulator-metadata.js";
export {
  createSimulatorProvider,
  type SimulatorPacing,
  type SimulatorProviderOptions,
  simulatorModels,
} from "./providers/simulator/simulator-provider.js";
