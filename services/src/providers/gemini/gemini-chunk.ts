/**
 * One `GenerateContentResponse` of a Gemini `streamGenerateContent?alt=sse`
 * stream (Gemini API and Vertex AI alike). Deliberately lenient: every
 * field is optional and `unknown`, and the mapper checks types before use, so
 * an odd chunk is ignored or becomes a `failed` event, never a crash.
 *
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerateContentResponse
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface GeminiChunk {
  /** `Candidate[]`: one per requested candidate, identified by `index` (absent = 0). */
  readonly candidates?: unknown;
  /** `{blockReason?, safetyRatings?}`: with `blockReason` and no candidates, the prompt was blocked. */
  readonly promptFeedback?: unknown;
  /** Token counts so far (see `mapGeminiUsage`). */
  readonly usageMetadata?: unknown;
  readonly modelVersion?: unknown;
  readonly responseId?: unknown;
  /** Vertex AI: when the response was created. */
  readonly createTime?: unknown;
  /** An error inside the 200 stream: `{code, message, status, details}` (google.rpc.Status). */
  readonly error?: unknown;
}

/** `candidates[]`. */
export interface GeminiCandidate {
  readonly index?: unknown;
  /** `{role: "model", parts: Part[]}`; `parts` may be absent or empty. */
  readonly content?: unknown;
  /** `STOP`, `MAX_TOKENS`, `SAFETY`, … (see `mapGeminiFinishReason`); absent until the candidate ends. */
  readonly finishReason?: unknown;
  readonly finishMessage?: unknown;
  readonly safetyRatings?: unknown;
  readonly citationMetadata?: unknown;
  readonly groundingMetadata?: unknown;
  readonly urlContextMetadata?: unknown;
  readonly avgLogprobs?: unknown;
  readonly logprobsResult?: unknown;
  readonly tokenCount?: unknown;
}

/**
 * `content.parts[]`: exactly one of `text`, `functionCall`,
 * `executableCode`, `codeExecutionResult`, `inlineData`, `fileData`, … plus
 * the flags `thought` (the text is a thought summary) and `thoughtSignature`.
 *
 * @see https://ai.google.dev/api/caching#Part
 */
export interface GeminiPart {
  readonly text?: unknown;
  readonly thought?: unknown;
  readonly thoughtSignature?: unknown;
  readonly functionCall?: unknown;
  readonly executableCode?: unknown;
  readonly codeExecutionResult?: unknown;
}

/**
 * `functionCall`: whole (`name`, `args`, optional `id`), or — Vertex AI with
 * `streamFunctionCallArguments` — streamed: a first part with `name` and
 * `willContinue: true`, parts with `partialArgs` (and `willContinue`), and a
 * last part without `willContinue` (often `{}`).
 *
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content#FunctionCall
 */
export interface GeminiFunctionCall {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly args?: unknown;
  readonly partialArgs?: unknown;
  readonly willContinue?: unknown;
}

/**
 * `functionCall.partialArgs[]`: one value at a JSON path (RFC 9535, e.g.
 * `$.recipe.steps[0]`); a string with `willContinue: true` continues in the
 * next PartialArg of the same path.
 *
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content#PartialArg
 */
export interface GeminiPartialArg {
  readonly jsonPath?: unknown;
  readonly stringValue?: unknown;
  readonly numberValue?: unknown;
  readonly boolValue?: unknown;
  readonly nullValue?: unknown;
  readonly willContinue?: unknown;
}

/** Returns `v` as a record when it is a non-null, non-array object. */
export { asRecord } from "../../json-shape.js";

/** Returns `v` when it is a non-empty string. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
