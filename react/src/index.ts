/**
 * `@airwave/react`: the AI SDK's `useChat` habits over Airwave — messages
 * with parts, status, stop, regenerate, resume after a reload, answers to
 * the agent's questions — on `@airwave/web`'s client (seven transports, one
 * resume loop), message model and frame batcher.
 *
 * @example
 * import { createAirwaveClient } from "@airwave/web";
 * import { useChat } from "@airwave/react";
 * const client = createAirwaveClient({ baseUrl: location.origin });
 * function Chat() {
 *   const { messages, status, sendMessage, stop } = useChat({ client, resume: true });
 *   // …
 * }
 */
export {
  type Chat,
  type ChatConnection,
  type ChatFinishInfo,
  type ChatOptions,
  type ChatRequestContext,
  type ChatSnapshot,
  type ChatStatus,
  type ChatStorage,
  type CreateStreamInit,
  createChat,
  defaultRequest,
} from "./chat.js";
export {
  type AssistantMetadata,
  type ChatMessage,
  type ChatPart,
  type ChatRole,
  type InputRequestPart,
  type ReasoningPart,
  type StatusPart,
  type TextPart,
  type ToolPart,
  textMessage,
} from "./chat-message.js";
export { type UseChatHelpers, type UseChatOptions, useChat } from "./use-chat.js";
