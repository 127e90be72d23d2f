import { z } from "zod";
import { optionalString, optionalNumber, optionalBoolean, passThrough } from "../../chunk-fields.js";

/*
 * The typed parse stage of the `ollama` kind: every NDJSON line of an
 * `/api/chat` or `/api/generate` stream is checked against
 * `ollamaChunkSchema` (`safeParseJson(text, schema)`) before the mapper sees
 * it.
 *
 * Lenient by design, as the mapper was before the schema: objects are loose
 * (unknown fields are kept), `null` reads as absent (the ollama-python SDK
 * re-serialises absent fields as `null`), and a field of the wrong type
 * reads as absent (`.catch`), so one odd field never fails a whole line.
 * Only a line that is not a JSON object fails (→ `failed` UPSTREAM_MALFORMED).
 * Values passed on or read as they are (`arguments`, `error`, `context`)
 * stay JSON values.
 */

/**
 * One entry of `message.tool_calls`: always whole, never streamed in fragments.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-tools
 */
export const ollamaToolCallSchema = z.looseObject({
  /** Newer Ollama versions may send an id; older ones send none. */
  id: optionalString,
  /** `{name, arguments: {…}, index?}`: arguments as a JSON object, not text. */
  function: z
    .looseObject({
      name: optionalString,
      /** A JSON object (Ollama); text from some compatible servers. Passed on as its JSON text (text: as it is). */
      arguments: passThrough,
      /** The call's position in the answer (newer versions). */
      index: optionalNumber,
    })
    .nullish()
    .catch(undefined),
});

/** `message` of an `/api/chat` line. */
export const ollamaChatMessageSchema = z.looseObject({
  role: optionalString,
  /** A fragment of the answer text. */
  content: optionalString,
  /** A fragment of the reasoning text (thinking models, `think: true`). */
  thinking: optionalString,
  /** Whole tool calls; entries that are not objects read as `undefined`. */
  tool_calls: z.array(ollamaToolCallSchema.optional().catch(undefined)).nullish().catch(undefined),
});

/**
 * One NDJSON line of an Ollama native streaming response: `/api/chat`
 * (`message`) or `/api/generate` (`response`, `thinking`), or an error
 * line. Every field is optional; see the leniency rules at the top of this
 * file.
 *
 * The line with `done: true` is the last one (the stream's terminal
 * marker); it carries `done_reason`, the token counts and the durations.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export const ollamaChunkSchema = z.looseObject({
  model: optionalString,
  created_at: optionalString,
  /** `/api/chat`: see {@link ollamaChatMessageSchema}. */
  message: ollamaChatMessageSchema.nullish().catch(undefined),
  /** `/api/generate`: a fragment of the answer text. */
  response: optionalString,
  /** `/api/generate`: a fragment of the reasoning text (thinking models, `think: true`). */
  thinking: optionalString,
  /** True on the last line. */
  done: optionalBoolean,
  /** On the last line: `stop`, `length`, `load`, `unload`, … */
  done_reason: optionalString,
  /** `/api/generate`, last line: the deprecated conversation token array (not read, so not checked). */
  context: passThrough,
  /** Total time spent on the request, in nanoseconds. */
  total_duration: optionalNumber,
  /** Time spent loading the model, in nanoseconds. */
  load_duration: optionalNumber,
  /** Prompt tokens evaluated (absent when the whole prompt came from the cache). */
  prompt_eval_count: optionalNumber,
  /** Time spent evaluating the prompt, in nanoseconds. */
  prompt_eval_duration: optionalNumber,
  /** Tokens generated. */
  eval_count: optionalNumber,
  /** Time spent generating, in nanoseconds. */
  eval_duration: optionalNumber,
  /** An error line: the message (a string; `{message}` from some proxies), read by `mapOllamaError`. */
  error: passThrough,
});

/**
 * One line, as the mapper receives it (the output of {@link ollamaChunkSchema}).
 *
 * @public the provider's wire shape, for readers of the mapper's input.
 */
export type OllamaChunk = z.output<typeof ollamaChunkSchema>;

/** One entry of `message.tool_calls` (its odd entries read as `undefined`). */
export type OllamaToolCall = z.output<typeof ollamaToolCallSchema>;

/**
 * An error line's `error`: a string, or (some proxies) `{message}`; any other
 * value reads as `""` (an error without a message).
 *
 * @see https://docs.ollama.com/api/errors
 */
export const ollamaErrorSchema = z.union([z.string(), z.looseObject({ message: z.string() }).transform((e) => e.message)]).catch("");
