import { FinishReason } from "@airwave/proto";

/**
 * Maps a Gemini `Candidate.finishReason` (or a prompt's
 * `promptFeedback.blockReason`) to a {@link FinishReason}.
 *
 * | raw | FinishReason |
 * |---|---|
 * | `STOP` | STOP (TOOL_CALLS when the candidate called functions: decided by the mapper) |
 * | `MAX_TOKENS` | LENGTH |
 * | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION` | CONTENT_FILTER |
 * | anything else (`LANGUAGE`, `OTHER`, `NO_IMAGE`, `UNEXPECTED_TOOL_CALL`, `FINISH_REASON_UNSPECIFIED`, values added later, …) | UNSPECIFIED |
 *
 * `MALFORMED_FUNCTION_CALL` maps to UNSPECIFIED here; the mapper ends such a
 * stream with `failed` (see `geminiChunkMapper`). The raw string is always
 * kept in `Completed.raw_finish_reason`.
 *
 * @see https://ai.google.dev/api/generate-content#FinishReason
 * @see https://ai.google.dev/api/generate-content#BlockReason
 */
export function mapGeminiFinishReason(raw: string): FinishReason {
  switch (raw) {
    case "STOP":
      return FinishReason.STOP;
    case "MAX_TOKENS":
      return FinishReason.LENGTH;
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "IMAGE_PROHIBITED_CONTENT":
    case "IMAGE_RECITATION":
      return FinishReason.CONTENT_FILTER;
    default:
      return FinishReason.UNSPECIFIED;
  }
}
