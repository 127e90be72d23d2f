import { FinishReason } from "@airwave/proto";

/**
 * Maps a Chat Completions `finish_reason` to a {@link FinishReason}.
 *
 * | raw | FinishReason | who sends it |
 * |---|---|---|
 * | `stop`, `eos`, `eos_token`, `end_turn`, `stop_sequence` | STOP | OpenAI; Together (`eos`); TGI < 2.1 (`eos_token`); proxies of Anthropic |
 * | `length`, `max_tokens`, `model_length` | LENGTH | OpenAI; proxies; vLLM (`model_length`) |
 * | `tool_calls`, `function_call`, `tool_use` | TOOL_CALLS | OpenAI (`function_call` for legacy functions) |
 * | `content_filter`, `safety`, `refusal` | CONTENT_FILTER | OpenAI, Azure; proxies of Gemini |
 * | anything else | UNSPECIFIED | |
 *
 * `error` (OpenRouter) and `insufficient_system_resource` (DeepSeek) are
 * failures, not finishes: see {@link isOpenAIChatFailureFinish}. The raw
 * string is always kept in `Completed.raw_finish_reason`.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 * @see https://huggingface.co/docs/text-generation-inference/en/reference/api_reference
 */
export function mapOpenAIFinishReason(raw: string): FinishReason {
  switch (raw) {
    case "stop":
    case "eos":
    case "eos_token":
    case "end_turn":
    case "stop_sequence":
      return FinishReason.STOP;
    case "length":
    case "max_tokens":
    case "model_length":
      return FinishReason.LENGTH;
    case "tool_calls":
    case "function_call":
    case "tool_use":
      return FinishReason.TOOL_CALLS;
    case "content_filter":
    case "safety":
    case "refusal":
      return FinishReason.CONTENT_FILTER;
    default:
      return FinishReason.UNSPECIFIED;
  }
}

/**
 * True for a `finish_reason` that reports a failure of the provider rather
 * than an end of the answer: `error` (OpenRouter: the upstream model failed
 * mid-stream) and `insufficient_system_resource` (DeepSeek: interrupted for
 * lack of inference capacity). The mapper ends the stream with `failed`
 * UNAVAILABLE (retryable) for them.
 *
 * @see https://openrouter.ai/docs/api-reference/errors#error-during-streaming
 * @see https://api-docs.deepseek.com/api/create-chat-completion
 */
export function isOpenAIChatFailureFinish(raw: string): boolean {
  return raw === "error" || raw === "insufficient_system_resource";
}
