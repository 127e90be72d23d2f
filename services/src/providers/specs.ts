import type { HttpProviderSpec } from "../http-provider/http-provider-spec.js";
import { anthropicSpec } from "./anthropic/anthropic-spec.js";
import { geminiSpec } from "./gemini/gemini-spec.js";
import { ollamaSpec } from "./ollama/ollama-spec.js";
import { openAIChatSpec } from "./openai-chat/openai-chat-spec.js";
import { openAIResponsesSpec } from "./openai-responses/openai-responses-spec.js";
import { tgiSpec } from "./tgi/tgi-spec.js";

/** Every provider kind Airwave speaks, by its configuration name. */
export const providerSpecs: ReadonlyMap<string, HttpProviderSpec> = new Map(
  [openAIChatSpec, openAIResponsesSpec, anthropicSpec, geminiSpec, tgiSpec, ollamaSpec].map((s) => [s.kind, s]),
);
