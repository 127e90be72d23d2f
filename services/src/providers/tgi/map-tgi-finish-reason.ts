import { FinishReason } from "@airwave/proto";

/**
 * Maps TGI's `details.finish_reason` to a {@link FinishReason}.
 *
 * | raw | FinishReason |
 * |---|---|
 * | `eos_token` (the model ended), `stop_sequence` (a `stop` string was produced) | STOP |
 * | `length` (`max_new_tokens` reached) | LENGTH |
 * | anything else | UNSPECIFIED |
 *
 * The raw string is kept in `Completed.raw_finish_reason`.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/ (schema `FinishReason`)
 */
export function mapTgiFinishReason(raw: string): FinishReason {
  switch (raw) {
    case "eos_token":
    case "stop_sequence":
      return FinishReason.STOP;
    case "length":
      return FinishReason.LENGTH;
    default:
      return FinishReason.UNSPECIFIED;
  }
}
