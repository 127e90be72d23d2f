/**
 * The message model: a pure reducer from airwave.v1 events to a typed view
 * of the answer (per agent: text, reasoning, tool calls and results,
 * status, input requests), text that grows in linear time, and a batcher
 * that applies events once per animation frame or at the interval an
 * update policy picks from the network and the device. No framework
 * dependency.
 */
export { createFrameBatcher, type FrameBatcher, type FrameBatcherOptions } from "./frame-batcher.js";
export {
  type AgentStatus,
  type AgentView,
  agentOf,
  answerText,
  type Block,
  createMessageState,
  type Finish,
  type InputBlock,
  type MessageState,
  type ParsedArguments,
  pendingInputs,
  type ReasoningBlock,
  reduceMessage,
  reduceMessages,
  type StartedInfo,
  type TextBlock,
  type ToolCallBlock,
} from "./reduce-message.js";
export { appendText, chunksSince, emptyText, type TextChunks, textChunks, textOf } from "./text-chunks.js";
export {
  type ConnectionHints,
  type CreateUpdatePolicyOptions,
  chooseUpdatePolicy,
  createUpdatePolicy,
  defaultUpdateFigures,
  type LongTaskObserverConstructor,
  type LongTaskObserverLike,
  type NavigatorHints,
  pageUpdatePolicy,
  type UpdateFigures,
  type UpdateHints,
  type UpdatePolicy,
  type UpdatePolicyOptions,
  type UpdatePolicySource,
  type UpdateTier,
  updateThresholds,
} from "./update-policy.js";
