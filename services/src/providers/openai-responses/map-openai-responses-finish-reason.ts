import { FinishReason } from "@airwave/proto";

/**
 * Maps how a Responses stream ended to a {@link FinishReason}: the terminal
 * event's `response.status`, and for `incomplete` the
 * `response.incomplete_details.reason`.
 *
 * | terminal event | `incomplete_details.reason` | FinishReason |
 * |---|---|---|
 * | `response.completed` | — | STOP (the mapper makes it TOOL_CALLS when the response has client tool calls, CONTENT_FILTER after a refusal) |
 * | `response.incomplete` | `max_output_tokens` | LENGTH |
 * | `response.incomplete` | `content_filter` | CONTENT_FILTER |
 * | `response.incomplete` | anything else, or none | UNSPECIFIED |
 *
 * The raw reason kept beside it is `"completed"` for `response.completed`
 * and the `incomplete_details.reason` (or `"incomplete"`) otherwise.
 * (`response.failed` is a `failed` event, see `map-openai-responses-error.ts`.)
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-incomplete_details
 */
export function mapOpenAIResponsesFinishReason(status: "completed" | "incomplete", incompleteReason?: string): FinishReason {
  if (status === "completed") return FinishReason.STOP;
  switch (incompleteReason) {
    case "max_output_tokens":
      return FinishReason.LENGTH;
    case "content_filter":
      return FinishReason.CONTENT_FILTER;
    default:
      return FinishReason.UNSPECIFIED;
  }
}
