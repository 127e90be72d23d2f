import { z } from "zod";
import { optionalString, optionalNumber, optionalBoolean, passThrough, passThroughObject, lenientArray } from "../../chunk-fields.js";

/*
 * The typed parse stage of the `gemini` kind: every SSE `data` (and every
 * bare JSON block, see `frameGeminiSse`) of a `streamGenerateContent?alt=sse`
 * stream is checked against `geminiChunkSchema` (`safeParseJson(text,
 * schema)`) before the mapper sees it.
 *
 * Lenient by design, as the mapper was before the schema: objects are loose
 * (unknown fields are kept: the mapper passes parts it does not model on as
 * `provider_metadata`), and a field of the wrong type reads as absent
 * (`.catch`), so one odd field never fails a whole chunk. Only data that is
 * not a JSON object fails (→ `failed` UPSTREAM_MALFORMED). Values passed on
 * as they are (candidate and response extras, `args`, `usageMetadata`,
 * `promptFeedback`, `error`, …) stay JSON values, untouched; the helpers that
 * read into the last three do so through their own schemas below.
 */

/**
 * `functionCall.partialArgs[]`: one value at a JSON path (RFC 9535, e.g.
 * `$.recipe.steps[0]`); a string with `willContinue: true` continues in the
 * next PartialArg of the same path.
 *
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content#PartialArg
 */
export const geminiPartialArgSchema = z.looseObject({
  jsonPath: optionalString,
  stringValue: optionalString,
  numberValue: optionalNumber,
  boolValue: optionalBoolean,
  /** `"NULL_VALUE"`: any value present (even `null`) stands for JSON null. */
  nullValue: passThrough,
  willContinue: optionalBoolean,
});

/**
 * `functionCall`: whole (`name`, `args`, optional `id`), or — Vertex AI with
 * `streamFunctionCallArguments` — streamed: a first part with `name` and
 * `willContinue: true`, parts with `partialArgs` (and `willContinue`), and a
 * last part without `willContinue` (often `{}`).
 *
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content#FunctionCall
 */
export const geminiFunctionCallSchema = z.looseObject({
  id: optionalString,
  name: optionalString,
  /** The arguments, a JSON object as sent (passed on as its JSON text). */
  args: passThrough,
  partialArgs: lenientArray(geminiPartialArgSchema),
  willContinue: optionalBoolean,
});

/**
 * `executableCode`: code the model wrote for the built-in code execution tool.
 *
 * @see https://ai.google.dev/api/caching#ExecutableCode
 */
export const geminiExecutableCodeSchema = z.looseObject({
  /** Vertex AI: pairs the code with its `codeExecutionResult`. */
  id: optionalString,
  /** `PYTHON`; passed on as sent in the call's arguments. */
  language: passThrough,
  /** The code; passed on as sent in the call's arguments. */
  code: passThrough,
});

/**
 * `codeExecutionResult`: the outcome of running an `executableCode`.
 *
 * @see https://ai.google.dev/api/caching#CodeExecutionResult
 */
export const geminiCodeExecutionResultSchema = z.looseObject({
  id: optionalString,
  /** `OUTCOME_OK`, `OUTCOME_FAILED`, `OUTCOME_DEADLINE_EXCEEDED`; passed on as sent. */
  outcome: passThrough,
  /** stdout, or the error; passed on as sent. */
  output: passThrough,
});

/**
 * `content.parts[]`: exactly one of `text`, `functionCall`,
 * `executableCode`, `codeExecutionResult`, `inlineData`, `fileData`, … plus
 * the flags `thought` (the text is a thought summary) and `thoughtSignature`.
 * Parts of other kinds keep their fields (unknown fields are kept).
 *
 * @see https://ai.google.dev/api/caching#Part
 */
export const geminiPartSchema = z.looseObject({
  text: optionalString,
  thought: optionalBoolean,
  thoughtSignature: optionalString,
  functionCall: geminiFunctionCallSchema.nullish().catch(undefined),
  executableCode: geminiExecutableCodeSchema.nullish().catch(undefined),
  codeExecutionResult: geminiCodeExecutionResultSchema.nullish().catch(undefined),
});

/**
 * `candidates[]`.
 *
 * @see https://ai.google.dev/api/generate-content#candidate
 */
export const geminiCandidateSchema = z.looseObject({
  /** The candidate's index, 0-based (absent = its position). Not an integer in 0..2^32-1 (`choice_index` is a uint32): the position. */
  index: z
    .number()
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff)
    .nullish()
    .catch(undefined),
  /** `{role: "model", parts: Part[]}`; `parts` may be absent or empty. */
  content: z
    .looseObject({ role: passThrough, parts: lenientArray(geminiPartSchema) })
    .nullish()
    .catch(undefined),
  /** `STOP`, `MAX_TOKENS`, `SAFETY`, … (see `mapGeminiFinishReason`); absent until the candidate ends. */
  finishReason: optionalString,
  finishMessage: passThrough,
  safetyRatings: passThrough,
  citationMetadata: passThrough,
  groundingMetadata: passThrough,
  urlContextMetadata: passThrough,
  avgLogprobs: passThrough,
  logprobsResult: passThrough,
  tokenCount: passThrough,
});

/**
 * One `GenerateContentResponse` of a Gemini `streamGenerateContent?alt=sse`
 * stream (Gemini API and Vertex AI alike), or an error object inside the 200
 * stream. Every field is optional; see the leniency rules at the top of this
 * file.
 *
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerateContentResponse
 */
export const geminiChunkSchema = z.looseObject({
  /** `Candidate[]`: one per requested candidate, identified by `index` (absent = 0). */
  candidates: lenientArray(geminiCandidateSchema),
  /**
   * `{blockReason?, safetyRatings?}`: with `blockReason` and no candidates, the prompt was blocked.
   * Passed on as sent; `blockReason` is read through {@link geminiPromptFeedbackSchema}.
   */
  promptFeedback: passThrough,
  /**
   * Token counts so far: passed on as sent (the terminal's `provider_metadata.usageMetadata`);
   * the counts are read by `mapGeminiUsage` through {@link geminiUsageMetadataSchema}.
   */
  usageMetadata: passThroughObject,
  modelVersion: passThrough,
  responseId: passThrough,
  /** Vertex AI: when the response was created. */
  createTime: passThrough,
  /** The model's lifecycle stage (preview, deprecation date). */
  modelStatus: passThrough,
  /** An error inside the 200 stream: `{code, message, status, details}` (google.rpc.Status), read by `fromGeminiStreamError`. */
  error: passThrough,
});

/**
 * One chunk, as the mapper receives it (the output of {@link geminiChunkSchema}).
 *
 * @public the provider's wire shape, for readers of the mapper's input.
 */
export type GeminiChunk = z.output<typeof geminiChunkSchema>;

/** One entry of `content.parts`. */
export type GeminiPart = z.output<typeof geminiPartSchema>;

/** A part's `functionCall`. */
export type GeminiFunctionCall = z.output<typeof geminiFunctionCallSchema>;

/** One entry of `functionCall.partialArgs`. */
export type GeminiPartialArg = z.output<typeof geminiPartialArgSchema>;

/**
 * `promptFeedback`: why the prompt was blocked, if it was.
 *
 * @see https://ai.google.dev/api/generate-content#PromptFeedback
 */
export const geminiPromptFeedbackSchema = z.looseObject({
  /** `SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `IMAGE_SAFETY` (see `mapGeminiFinishReason`). */
  blockReason: optionalString,
  safetyRatings: passThrough,
});

/**
 * `usageMetadata`: the token counts `mapGeminiUsage` reads; every other
 * field (`totalTokenCount`, `promptTokensDetails`, `trafficType`, …) is kept.
 *
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export const geminiUsageMetadataSchema = z.looseObject({
  promptTokenCount: optionalNumber,
  /** Absent until the first output token (and on Vertex's early `{"trafficType": …}`). */
  candidatesTokenCount: optionalNumber,
  /** Tokens of tool-use prompts (code execution, search results), counted apart from `promptTokenCount`. */
  toolUsePromptTokenCount: optionalNumber,
  /** Thinking tokens, counted apart from `candidatesTokenCount`. */
  thoughtsTokenCount: optionalNumber,
  /** The cached part of `promptTokenCount`. */
  cachedContentTokenCount: optionalNumber,
});

/**
 * `error` inside a 200 stream: a google.rpc.Status.
 *
 * @see https://cloud.google.com/apis/design/errors#error_model
 */
export const geminiStreamErrorSchema = z.looseObject({
  /** The HTTP status Google pairs with `status`, e.g. 429. */
  code: optionalNumber,
  message: optionalString,
  /** The canonical status, e.g. `RESOURCE_EXHAUSTED`. */
  status: optionalString,
  /** Internals (debug info, quota details); never passed on to the client. */
  details: passThrough,
});
