import { ev, FinishReason, type StreamEvent, type UsageInit, withExtras } from "@airwave/proto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import {
  type GeminiChunk,
  type GeminiFunctionCall,
  type GeminiPart,
  type GeminiPartialArg,
  geminiPromptFeedbackSchema,
} from "./gemini-chunk.js";
import { fromGeminiStreamError } from "./map-gemini-error.js";
import { mapGeminiFinishReason } from "./map-gemini-finish-reason.js";
import { mapGeminiUsage } from "./map-gemini-usage.js";
import { flattenArgs, type JsonPathSegment, type PartialLeaf, PartialArgsWriter, parseJsonPath } from "./partial-args-writer.js";
import { parsesAsJson } from "../../json-shape.js";

/** The tool name Airwave gives Gemini's built-in code execution. */
export const codeExecutionToolName = "code_execution";

/** Candidate fields kept as `provider_metadata` (when present and changed). */
const candidateExtras = [
  "citationMetadata",
  "groundingMetadata",
  "urlContextMetadata",
  "safetyRatings",
  "avgLogprobs",
  "logprobsResult",
  "finishMessage",
  "tokenCount",
] as const;

/** Response fields kept as `provider_metadata` (when present and changed). */
const responseExtras = ["modelVersion", "responseId", "createTime", "promptFeedback", "modelStatus"] as const;

/** `promptFeedback` read for its `blockReason`; anything else reads as no feedback. */
const promptFeedbackSchema = geminiPromptFeedbackSchema.nullish().catch(undefined);

/** Part fields the mapper turns into events; any other part is passed on as metadata. */
const knownPartFields = new Set(["text", "thought", "thoughtSignature", "functionCall", "executableCode", "codeExecutionResult"]);

/** A function call whose arguments are being streamed (`partialArgs`). @private */
interface StreamedCall {
  readonly id: string;
  readonly name: string;
  readonly writer: PartialArgsWriter;
}

/** State of one candidate. @private */
interface CandidateState {
  readonly index: number;
  /** Kind of the current content block: consecutive parts of one kind share a block index. */
  blockKind: "text" | "thought" | "other" | undefined;
  block: number;
  nextBlock: number;
  /** Tool calls started in this candidate (ToolCallStarted.index). */
  calls: number;
  /** True once it called a client function (STOP → TOOL_CALLS). */
  calledFunctions: boolean;
  open: StreamedCall | undefined;
  /** Call id of the last `executableCode`, for a `codeExecutionResult` without id. */
  lastCode: string | undefined;
  finishRaw: string | undefined;
  /** JSON text of each extra last passed on, to pass on changes only. */
  readonly seen: Map<string, string>;
  /** Extras waiting for this candidate's next event. */
  pending: JsonObject;
}

/** State of {@link geminiChunkMapper} for one stream. */
export interface GeminiChunkState {
  /** The latest usage reported, and its JSON (a usage event goes out only when it changes). */
  usage: UsageInit | undefined;
  usageKey: string;
  /** The raw `usageMetadata` of the last chunk that reported counts, for the terminal's metadata. */
  usageMetadata: JsonObject | undefined;
  /** Candidates by `index`. */
  readonly candidates: Map<number, CandidateState>;
  /** Counter for derived call ids (`call_<n>`), across candidates. */
  nextCallId: number;
  /** `promptFeedback.blockReason` of a blocked prompt. */
  blockReason: string | undefined;
  readonly seen: Map<string, string>;
  /** Response-level extras waiting for the next event. */
  pending: JsonObject;
}

/**
 * Maps Gemini `GenerateContentResponse` chunks (parsed from the SSE `data`,
 * or from a bare JSON block, and checked against `geminiChunkSchema`, see
 * `frameGeminiSse`) to airwave.v1 events.
 * Deterministic, no I/O. Every candidate is mapped; events of candidate
 * `index` > 0 carry that `choice_index`.
 *
 * Per chunk:
 * - not JSON, or not a JSON object → `failed` INTERNAL, reason UPSTREAM_MALFORMED;
 * - `{"error": …}` → `failed` with the code of `fromGeminiStreamError` and the usage so far;
 * - each part of `candidates[].content.parts`, in order:
 *   - `text` with `thought: true` → `reasoning_delta` (its `thoughtSignature` in `signature`);
 *   - other `text` → `text_delta` (a `thoughtSignature` goes to its `provider_metadata`);
 *     an empty text part carrying only a `thoughtSignature` → an empty
 *     `reasoning_delta` with that signature (Gemini closes its thinking so);
 *     other empty text parts give nothing;
 *   - `functionCall` `{name, args, id?}` → `tool_call_started` (signature in
 *     `provider_metadata.thoughtSignature`), one `tool_call_delta` with the
 *     arguments JSON, `tool_call_completed`; the id is `functionCall.id`, or
 *     `call_<n>` (n counts the calls of the stream from 0) when Gemini sends none;
 *   - streamed calls (Vertex `streamFunctionCallArguments`): a `functionCall`
 *     with `name` and `willContinue: true` starts the call, its
 *     `partialArgs` become `tool_call_delta`s written by `PartialArgsWriter`,
 *     and the first `functionCall` part without `willContinue` (or a
 *     new call, any other part, the candidate's finish) completes it; when the
 *     candidate finishes with `MAX_TOKENS` the open call completes with
 *     `incomplete: true` and its raw partial text; partial arguments out of
 *     document order, or without a started call → `failed` UPSTREAM_MALFORMED;
 *   - `executableCode` → a provider-executed `code_execution` call with
 *     arguments `{"language", "code"}`; `codeExecutionResult` →
 *     `tool_result` of that call (matched by `id`, else the last code part),
 *     `{"outcome", "output"}`, `is_error` unless `OUTCOME_OK`;
 *   - any other part (`inlineData`, `fileData`, …) → an empty `text_delta`
 *     whose `provider_metadata` holds the part as sent (nothing is dropped);
 * - `usageMetadata` → `usage` when the mapped counts changed; the last one
 *   is the terminal's usage, and its raw object (modality details,
 *   `trafficType`, `serviceTier`, …) the terminal's `provider_metadata.usageMetadata`;
 * - candidate extras (citationMetadata, groundingMetadata, urlContextMetadata,
 *   safetyRatings, avgLogprobs, logprobsResult, finishMessage) and response
 *   extras (modelVersion, responseId, createTime, promptFeedback) go to the
 *   `provider_metadata` of the next event (of that candidate), only when
 *   present and different from what was last passed on; leftovers go to the
 *   terminal event.
 *
 * Block indexes count runs of parts per candidate: consecutive thought parts
 * share one, consecutive text parts share one, anything else starts a new run.
 *
 * The terminal event is decided when the body ends (Gemini may send more
 * after a `finishReason`, even an error object): `completed` with candidate
 * 0's (the lowest index's) finish reason mapped by `mapGeminiFinishReason` —
 * `STOP` with client function calls → TOOL_CALLS — and the last usage; a
 * blocked prompt (`promptFeedback.blockReason`, no candidate) → `completed`
 * CONTENT_FILTER with the block reason as the raw reason; a candidate that
 * finished with `MALFORMED_FUNCTION_CALL` → `failed` INTERNAL, reason
 * UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable: the model may do better);
 * no chunk at all, or a candidate without `finishReason` → `failed`
 * UNAVAILABLE, reason UPSTREAM_TRUNCATED (retryable). Exactly one terminal
 * event, always last.
 *
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 * @see https://ai.google.dev/gemini-api/docs/thinking#summaries
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures
 * @see https://ai.google.dev/gemini-api/docs/code-execution
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/function-calling#streaming-function-call-arguments
 */
export const geminiChunkMapper: Mapper<ParseResult<GeminiChunk>, GeminiChunkState> = {
  init: () => ({
    usage: undefined,
    usageKey: "",
    usageMetadata: undefined,
    candidates: new Map(),
    nextCallId: 0,
    blockReason: undefined,
    seen: new Map(),
    pending: {},
  }),

  map(s, parsed) {
    if (!parsed.success) return malformed(s);
    const chunk = parsed.value;
    if (chunk.error !== undefined && chunk.error !== null) {
      const e = fromGeminiStreamError(chunk.error);
      return end(s, ev.failed(e.code, e.message, e.reason, withUsage(s)));
    }
    const out: StreamEvent[] = [];
    for (const [i, cand] of (chunk.candidates ?? []).entries()) {
      if (!cand) continue;
      const index = cand.index ?? i;
      const c = candidate(s, index);
      Object.assign(c.pending, changed(c.seen, cand, candidateExtras));
      const events: StreamEvent[] = [];
      for (const p of cand.content?.parts ?? []) {
        if (!mapPart(s, c, p ?? {}, events)) return [...out, ...events, ...malformed(s)];
      }
      const finish = cand.finishReason;
      if (finish) {
        c.finishRaw = finish;
        if (c.open && !closeCall(s, c, finish === "MAX_TOKENS", events)) return [...out, ...events, ...malformed(s)];
      }
      if (events.length > 0) {
        attach(events[0] as StreamEvent, c.pending);
        c.pending = {};
      }
      if (index !== 0) for (const e of events) withExtras(e, { choice: index });
      out.push(...events);
    }
    if (chunk.promptFeedback !== undefined) {
      const block = promptFeedbackSchema.parse(chunk.promptFeedback)?.blockReason;
      if (block) s.blockReason = block;
    }
    const usage = mapGeminiUsage(chunk.usageMetadata);
    const key = JSON.stringify(usage ?? null);
    if (usage) s.usageMetadata = chunk.usageMetadata;
    if (usage && key !== s.usageKey) {
      s.usage = usage;
      s.usageKey = key;
      out.push(ev.usage(usage));
    }
    Object.assign(s.pending, changed(s.seen, chunk, responseExtras));
    if (out.length > 0) {
      attach(out[0] as StreamEvent, s.pending);
      s.pending = {};
    }
    return out;
  },

  end(s) {
    const all = [...s.candidates.values()].sort((a, b) => a.index - b.index);
    const first = all[0];
    if (s.blockReason !== undefined && (all.length === 0 || all.some((c) => c.finishRaw === undefined))) {
      return end(s, ev.completed(FinishReason.CONTENT_FILTER, s.usage, s.blockReason));
    }
    if (!first || all.some((c) => c.finishRaw === undefined)) {
      return end(
        s,
        ev.failed(
          Code.Unavailable,
          "the inference provider's stream ended before the answer was complete",
          "UPSTREAM_TRUNCATED",
          withUsage(s),
        ),
      );
    }
    const raw = first.finishRaw ?? "";
    if (raw === "MALFORMED_FUNCTION_CALL") {
      return end(
        s,
        ev.failed(Code.Internal, "the model produced a malformed function call", "UPSTREAM_INVALID_TOOL_ARGUMENTS", {
          retryable: true,
          ...withUsage(s),
        }),
      );
    }
    let finish = mapGeminiFinishReason(raw);
    if (finish === FinishReason.STOP && first.calledFunctions) finish = FinishReason.TOOL_CALLS;
    return end(s, ev.completed(finish, s.usage, raw));
  },
};

/** Maps one part; false when the part is malformed (the caller fails the stream). */
function mapPart(s: GeminiChunkState, c: CandidateState, p: GeminiPart, out: StreamEvent[]): boolean {
  const signature = p.thoughtSignature || undefined;
  if (p.functionCall) return mapFunctionCall(s, c, p.functionCall, signature, out);
  if (c.open && !closeCall(s, c, false, out)) return false;
  const text = p.text ?? undefined;
  if (text !== undefined && p.thought === true) {
    if (text !== "" || signature) out.push(ev.reasoningDelta(text, block(c, "thought"), signature ?? ""));
    return true;
  }
  if (text !== undefined && text !== "") {
    out.push(attach(ev.textDelta(text, block(c, "text")), signature ? { thoughtSignature: signature } : {}));
    return true;
  }
  if (text !== undefined) {
    if (signature) out.push(ev.reasoningDelta("", block(c, "thought"), signature));
    return true;
  }
  const code = p.executableCode;
  if (code) {
    const id = code.id || `call_${s.nextCallId++}`;
    c.lastCode = id;
    const args = JSON.stringify({ language: code.language ?? null, code: code.code ?? "" });
    block(c, "other");
    out.push(
      attach(
        ev.toolCallStarted(id, codeExecutionToolName, c.calls++, { providerExecuted: true }),
        signature ? { thoughtSignature: signature } : {},
      ),
      ev.toolCallDelta(id, args),
      ev.toolCallCompleted(id, codeExecutionToolName, args, { providerExecuted: true }),
    );
    return true;
  }
  const result = p.codeExecutionResult;
  if (result) {
    const id = result.id || (c.lastCode ?? `call_${s.nextCallId++}`);
    const outcome = result.outcome;
    block(c, "other");
    out.push(
      attach(
        ev.toolResult(id, JSON.stringify({ outcome: outcome ?? null, output: result.output ?? "" }), {
          name: codeExecutionToolName,
          isError: outcome !== "OUTCOME_OK",
        }),
        signature ? { thoughtSignature: signature } : {},
      ),
    );
    return true;
  }
  // The part as sent: its unknown fields (JSON values), then its signature (last, where Gemini sends it).
  const extra = Object.fromEntries(Object.entries(p).filter(([k]) => !knownPartFields.has(k))) as JsonObject;
  if (p.thoughtSignature !== undefined) extra["thoughtSignature"] = p.thoughtSignature;
  if (Object.keys(extra).length > 0) out.push(attach(ev.textDelta("", block(c, "other")), extra));
  return true;
}

function mapFunctionCall(
  s: GeminiChunkState,
  c: CandidateState,
  fc: GeminiFunctionCall,
  signature: string | undefined,
  out: StreamEvent[],
): boolean {
  const name = fc.name || undefined;
  const partialArgs = fc.partialArgs ?? [];
  const streamed = fc.willContinue === true || partialArgs.length > 0;
  if (name !== undefined) {
    if (c.open && !closeCall(s, c, false, out)) return false;
    const id = fc.id || `call_${s.nextCallId++}`;
    const meta: JsonObject = signature ? { thoughtSignature: signature } : {};
    block(c, "other");
    c.calledFunctions = true;
    out.push(attach(ev.toolCallStarted(id, name, c.calls++), meta));
    if (!streamed) {
      const args = fc.args === undefined || fc.args === null ? "{}" : JSON.stringify(fc.args);
      out.push(ev.toolCallDelta(id, args), ev.toolCallCompleted(id, name, args));
      return true;
    }
    c.open = { id, name, writer: new PartialArgsWriter() };
    for (const { path, leaf } of flattenArgs(fc.args)) {
      if (!write(c.open, path, leaf, out)) return false;
    }
  } else if (!c.open) {
    // `{}` or `{willContinue: true}` with no call open: nothing to do; arguments without a call are malformed.
    return partialArgs.length === 0;
  }
  const call = c.open as StreamedCall;
  for (const pa of partialArgs) {
    const path = pa?.jsonPath != null ? parseJsonPath(pa.jsonPath) : undefined;
    const leaf = pa ? partialLeaf(pa) : undefined;
    if (!path) return false;
    if (leaf && !write(call, path, leaf, out)) return false;
  }
  if (fc.willContinue !== true) return closeCall(s, c, false, out);
  return true;
}

function partialLeaf(pa: GeminiPartialArg): PartialLeaf | undefined {
  if (pa.stringValue != null) return { kind: "string", text: pa.stringValue, willContinue: pa.willContinue === true };
  if (pa.numberValue != null) return { kind: "json", json: Number.isFinite(pa.numberValue) ? JSON.stringify(pa.numberValue) : "null" };
  if (pa.boolValue != null) return { kind: "json", json: String(pa.boolValue) };
  if (pa.nullValue !== undefined) return { kind: "json", json: "null" };
  return undefined;
}

function write(call: StreamedCall, path: readonly JsonPathSegment[], leaf: PartialLeaf, out: StreamEvent[]): boolean {
  const text = call.writer.apply(path, leaf);
  if (text instanceof Error) return false;
  if (text !== "") out.push(ev.toolCallDelta(call.id, text));
  return true;
}

/** Completes the open streamed call; `cut` (MAX_TOKENS) marks it incomplete with its raw text. */
function closeCall(_s: GeminiChunkState, c: CandidateState, cut: boolean, out: StreamEvent[]): boolean {
  const call = c.open;
  c.open = undefined;
  if (!call) return true;
  if (cut) {
    out.push(ev.toolCallCompleted(call.id, call.name, call.writer.text, { incomplete: true }));
    return true;
  }
  const tail = call.writer.finish();
  if (tail !== "") out.push(ev.toolCallDelta(call.id, tail));
  const args = call.writer.text;
  if (!parsesAsJson(args)) return false;
  out.push(ev.toolCallCompleted(call.id, call.name, args));
  return true;
}

function candidate(s: GeminiChunkState, index: number): CandidateState {
  let c = s.candidates.get(index);
  if (!c) {
    c = {
      index,
      blockKind: undefined,
      block: 0,
      nextBlock: 0,
      calls: 0,
      calledFunctions: false,
      open: undefined,
      lastCode: undefined,
      finishRaw: undefined,
      seen: new Map(),
      pending: {},
    };
    s.candidates.set(index, c);
  }
  return c;
}

/** The block index for a part of `kind`: the current one while the kind stays, else the next. */
function block(c: CandidateState, kind: "text" | "thought" | "other"): number {
  if (c.blockKind !== kind || kind === "other") {
    c.blockKind = kind;
    c.block = c.nextBlock++;
  }
  return c.block;
}

/** The fields of `keys` in `from` that are present, non-empty and differ from what `seen` last recorded. */
function changed(seen: Map<string, string>, from: Readonly<Record<string, unknown>>, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) {
    const v = from[k];
    if (v === undefined || v === null || isEmpty(v)) continue;
    const json = JSON.stringify(v);
    if (seen.get(k) === json) continue;
    seen.set(k, json);
    out[k] = v as JsonValue;
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0) || v === "";
}

/** Merges `metadata` under the event's own `provider_metadata` (the event's keys win). */
function attach(e: StreamEvent, metadata: JsonObject): StreamEvent {
  if (Object.keys(metadata).length === 0) return e;
  return withExtras(e, { metadata: { ...metadata, ...(e.providerMetadata ?? {}) } });
}

function malformed(s: GeminiChunkState): StreamEvent[] {
  return end(s, ev.failed(Code.Internal, "the inference provider sent a malformed event", "UPSTREAM_MALFORMED"));
}

/** Emits the terminal event, with the extras still waiting. */
function end(s: GeminiChunkState, terminal: StreamEvent): StreamEvent[] {
  const others: JsonObject[] = [];
  let meta: JsonObject = { ...s.pending, ...(s.usageMetadata ? { usageMetadata: s.usageMetadata } : {}) };
  for (const c of [...s.candidates.values()].sort((a, b) => a.index - b.index)) {
    if (Object.keys(c.pending).length === 0) continue;
    if (c.index === 0) meta = { ...meta, ...c.pending };
    else others.push({ index: c.index, ...c.pending });
  }
  if (others.length > 0) meta["candidates"] = others;
  return [attach(terminal, meta)];
}

function withUsage(s: GeminiChunkState): { usage?: UsageInit } {
  return s.usage ? { usage: s.usage } : {};
}
