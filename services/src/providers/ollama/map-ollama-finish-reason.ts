import { FinishReason } from "@airwave/proto";

/**
 * Maps Ollama's `done_reason` to a {@link FinishReason}.
 *
 * | raw | FinishReason |
 * |---|---|
 * | `stop` (end of sequence or a stop string) | STOP, or TOOL_CALLS when the answer called tools (Ollama reports `stop` then) |
 * | `length` (`num_predict` or the context reached) | LENGTH |
 * | anything else (`load`, `unload`: an empty request that only loaded or unloaded the model) | UNSPECIFIED |
 *
 * The raw string is kept in `Completed.raw_finish_reason`.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-completion
 */
export function mapOllamaFinishReason(raw: string, calledTools: boolean): FinishReason {
  switch (raw) {
    case "stop":
      return calledTools ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    case "length":
      return FinishReason.LENGTH;
    default:
      return FinishReason.UNSPECIFIED;
  }
}
