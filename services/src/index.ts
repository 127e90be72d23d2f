/**
 * Airwave inference services: provider adapters and the built-in simulator,
 * served over gRPC as `airwave.v1.InferenceService`.
 */
export { adapt, type Mapper } from "./adapt.js";
export { defaultServicesConfig, loadConfig, type ServicesConfig } from "./config.js";
export { createProviders } from "./create-providers.js";
export { delay, type Sleep } from "@airwave/proto";
export { createInferenceService, guardProviderStream } from "./inference-service.js";
export { createInputChannel, type InputChannelOptions, type InputQueue } from "./input-channel.js";
export type { InputChannel, Provider } from "./provider.js";
export { resolveModel, type ResolvedModel } from "./resolve-model.js";
export { closeGraceMs, type InferenceServer, type InferenceServerOptions, startInferenceServer } from "./server.js";
export { upstreamLimitEnv } from "./config.js";
export { codeForStatus, isRetryableStatus, reasonForStatus } from "./http-provider/code-for-status.js";
export { createHttpProvider, type HttpProvider, type HttpProviderOptions } from "./http-provider/create-http-provider.js";
export type { HttpProviderSpec, ProviderEndpoint, UpstreamRequest } from "./http-provider/http-provider-spec.js";
export { parseRetryAfter } from "./http-provider/parse-retry-after.js";
export { fromUpstreamHttpError, headerReason, headerRetryAfterMs } from "./http-provider/upstream-error.js";
export { defaultUpstreamLimits, type UpstreamLimits } from "./http-provider/upstream-limits.js";
export { fixtureKind } from "./providers/fixture-kind.js";
export { providerSpecs } from "./providers/specs.js";
export { createRouting, loadRoutingFile, type CreateRoutingOptions, type Routing } from "./routing/create-routing.js";
export { defaultBaseUrls } from "./routing/default-base-urls.js";
export type { ProviderEntry, RoutingFile } from "./routing/routing-file.js";
export { decodeOpenAIChatStream } from "./providers/openai-chat/decode-openai-chat-stream.js";
export { createOpenAIChatChunkMapper, openAIChatChunkMapper } from "./providers/openai-chat/map-openai-chat-chunk.js";
export { openAIChatSpec } from "./providers/openai-chat/openai-chat-spec.js";
export { parseOpenAIChatOptions, type OpenAIChatOptions } from "./providers/openai-chat/openai-chat-options.js";
export { toOpenAIRequest } from "./providers/openai-chat/to-openai-chat-request.js";
export { simulate, simulationSeed } from "./providers/simulator/simulate.js";
export { simulateAgent, simulatorAgents, simulatorSearchTool } from "./providers/simulator/simulate-agent.js";
export { simulatorInputKinds, type SimulatorInputKind, simulatorMetadataKeys } from "./providers/simulator/simulator-metadata.js";
export {
  createSimulatorProvider,
  type SimulatorPacing,
  type SimulatorProviderOptions,
  simulatorModels,
} from "./providers/simulator/simulator-provider.js";
export { ServicesMetrics, type UpstreamMeter } from "./metrics.js";
