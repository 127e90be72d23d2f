/**
 * One NDJSON line of an Ollama native streaming response: `/api/chat`
 * (`message`) or `/api/generate` (`response`, `thinking`), or an error
 * line. Deliberately lenient: every field is optional and `unknown` (the
 * ollama-python SDK even re-serialises absent fields as `null`), and the
 * mapper checks types before use, so an odd line is ignored or becomes a
 * `failed` event, never a crash.
 *
 * The line with `done: true` is the last one (the stream's terminal
 * marker); it carries `done_reason`, the token counts and the durations.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export interface OllamaChunk {
  readonly model?: unknown;
  readonly created_at?: unknown;
  /** `/api/chat`: {@link OllamaChatMessage}. */
  readonly message?: unknown;
  /** `/api/generate`: a fragment of the answer text. */
  readonly response?: unknown;
  /** `/api/generate`: a fragment of the reasoning text (thinking models, `think: true`). */
  readonly thinking?: unknown;
  /** True on the last line. */
  readonly done?: unknown;
  /** On the last line: `stop`, `length`, `load`, `unload`, … */
  readonly done_reason?: unknown;
  /** `/api/generate`, last line: the deprecated conversation token array. */
  readonly context?: unknown;
  /** Total time spent on the request, in nanoseconds. */
  readonly total_duration?: unknown;
  /** Time spent loading the model, in nanoseconds. */
  readonly load_duration?: unknown;
  /** Prompt tokens evaluated (absent when the whole prompt came from the cache). */
  readonly prompt_eval_count?: unknown;
  /** Time spent evaluating the prompt, in nanoseconds. */
  readonly prompt_eval_duration?: unknown;
  /** Tokens generated. */
  readonly eval_count?: unknown;
  /** Time spent generating, in nanoseconds. */
  readonly eval_duration?: unknown;
  /** An error line: the message. */
  readonly error?: unknown;
}

/** `message` of an `/api/chat` {@link OllamaChunk}. */
export interface OllamaChatMessage {
  readonly role?: unknown;
  /** A fragment of the answer text. */
  readonly content?: unknown;
  /** A fragment of the reasoning text (thinking models, `think: true`). */
  readonly thinking?: unknown;
  /** Whole tool calls: {@link OllamaToolCall}[]. */
  readonly tool_calls?: unknown;
}

/** One entry of `message.tool_calls`: always whole, never streamed in fragments. */
export interface OllamaToolCall {
  /** Newer Ollama versions may send an id; older ones send none. */
  readonly id?: unknown;
  /** `{name, arguments: {…}, index?}`: arguments as a JSON object, not text. */
  readonly function?: unknown;
}

/** `v` as a JSON object, or undefined. @private */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
