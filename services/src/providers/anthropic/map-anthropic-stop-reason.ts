import { FinishReason } from "@airwave/proto";

/**
 * Maps a Messages API `stop_reason` to a {@link FinishReason}.
 *
 * | raw | FinishReason | why |
 * |---|---|---|
 * | `end_turn`, `stop_sequence` | STOP | |
 * | `pause_turn` | STOP | a long server-tool turn was paused; the answer so far is valid and the client continues it by sending it back. Clients tell it apart by `raw_finish_reason == "pause_turn"` |
 * | `max_tokens`, `model_context_window_exceeded` | LENGTH | a tool input cut there is marked incomplete |
 * | `tool_use` | TOOL_CALLS | |
 * | `refusal` | CONTENT_FILTER | the raw `stop_details` are kept in the terminal's `provider_metadata` |
 * | anything else | UNSPECIFIED | |
 *
 * The raw string is always kept in `Completed.raw_finish_reason`.
 *
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 * @see https://docs.anthropic.com/en/api/messages#response-stop-reason
 */
export function mapAnthropicStopReason(raw: string): FinishReason {
  switch (raw) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return FinishReason.STOP;
    case "max_tokens":
    case "model_context_window_exceeded":
      return FinishReason.LENGTH;
    case "tool_use":
      return FinishReason.TOOL_CALLS;
    case "refusal":
      return FinishReason.CONTENT_FILTER;
    default:
      return FinishReason.UNSPECIFIED;
  }
}
