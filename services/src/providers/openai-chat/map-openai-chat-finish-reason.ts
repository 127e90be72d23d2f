import { FinishReason } from "@airwave/proto";

/**
 * Maps a Chat Completions `finish_reason` to a {@link FinishReason}.
 *
 * | raw | FinishReason |
 * |---|---|
 * | `stop`, `eos`, `eos_token` (TGI, Together), `end_turn`, `stop_sequence` | STOP |
 * | `length`, `max_tokens`, `model_length` (vLLM) | LENGTH |
 * | `tool_calls`, `function_call` (legacy functions), `tool_use` | TOOL_CALLS |
 * | `content_filter`, `safety`, `refusal` | CONTENT_FILTER |
 * | anything else (including `error`, which the mapper treats as a failure) | UNSPECIFIED |
 *
 * The raw string is kept in `Completed.raw_finish_reason`.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
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
