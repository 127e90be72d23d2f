/**
 * One streaming event of the OpenAI Responses API (the JSON `data` of one
 * SSE message), as OpenAI, Azure OpenAI, OpenRouter and DeepSeek send it.
 * Deliberately lenient: every field is optional and `unknown`, and the
 * mapper checks types before use, so an odd event is ignored or becomes a
 * `failed` event, never a crash. The JSON `type` is authoritative: the SSE
 * `event:` line is optional (OpenRouter sends none).
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
export interface OpenAIResponsesEvent {
  /** `response.created`, `response.output_text.delta`, `error`, … */
  readonly type?: unknown;
  /** Increasing per stream (absent in older recordings). */
  readonly sequence_number?: unknown;
  /** The output item's position in `response.output`. */
  readonly output_index?: unknown;
  /** The output item's id (`msg_…`, `fc_…`, `rs_…`). */
  readonly item_id?: unknown;
  /** The content part's position inside a message item. */
  readonly content_index?: unknown;
  /** The summary part's position inside a reasoning item. */
  readonly summary_index?: unknown;
  /** The text or JSON fragment of a `*.delta` event. */
  readonly delta?: unknown;
  /** Full text of `response.output_text.done`, `reasoning_*_text.done`. */
  readonly text?: unknown;
  /** Full arguments of `function_call_arguments.done` / `mcp_call_arguments.done`. */
  readonly arguments?: unknown;
  /** Full input of `custom_tool_call_input.done`. */
  readonly input?: unknown;
  /** Full refusal of `response.refusal.done`. */
  readonly refusal?: unknown;
  /** Token log probabilities of `output_text.delta` (with `include: ["message.output_text.logprobs"]`). */
  readonly logprobs?: unknown;
  /** The output item of `output_item.added` / `.done`. */
  readonly item?: unknown;
  /** The response of `response.created|in_progress|queued|completed|incomplete|failed`. */
  readonly response?: unknown;
  /** `error` event: error code (e.g. `rate_limit_exceeded`, `server_error`). */
  readonly code?: unknown;
  /** `error` event: the message. */
  readonly message?: unknown;
  /** Some servers wrap an error event's fields in `{"error": {…}}`. */
  readonly error?: unknown;
}

/** A Responses output item (`response.output[]`): only the fields the mapper reads. */
export interface OpenAIResponsesItem {
  /** `message`, `reasoning`, `function_call`, `custom_tool_call`, `web_search_call`, … */
  readonly type?: unknown;
  readonly id?: unknown;
  /** The id a tool result must quote (function, custom, apply_patch, shell, computer calls). */
  readonly call_id?: unknown;
  readonly name?: unknown;
  /** `in_progress`, `completed`, `incomplete`, `failed`, … */
  readonly status?: unknown;
  readonly arguments?: unknown;
  readonly input?: unknown;
  /** Message content parts: `{type: "output_text", text, annotations, logprobs}` or `{type: "refusal", refusal}`. */
  readonly content?: unknown;
  /** Message phase (`commentary`, `final_answer`) on newer models. */
  readonly phase?: unknown;
  /** Reasoning summary parts: `{type: "summary_text", text}`. */
  readonly summary?: unknown;
  /** Opaque reasoning state, with `include: ["reasoning.encrypted_content"]`. */
  readonly encrypted_content?: unknown;
  /** MCP calls and lists: the server's label. */
  readonly server_label?: unknown;
  /** A built-in tool's result or error fields (`output`, `outputs`, `results`, `result`, `tools`, `error`). */
  readonly output?: unknown;
  readonly error?: unknown;
}

/** The `response` object of lifecycle events: only the fields the mapper reads. */
export interface OpenAIResponsesResponse {
  readonly id?: unknown;
  /** `completed`, `incomplete`, `failed`, `in_progress`, `queued`, `cancelled`. */
  readonly status?: unknown;
  /** `{code, message}` when `status` is `failed`. */
  readonly error?: unknown;
  /** `{reason: "max_output_tokens" | "content_filter"}` when `status` is `incomplete`. */
  readonly incomplete_details?: unknown;
  readonly usage?: unknown;
}

/** Returns `v` as a record when it is a non-null, non-array object. */
export { asRecord } from "../../json-shape.js";

/** Returns `v` when it is a non-empty string. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Returns `v` when it is a non-negative safe integer. */
export function index(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
