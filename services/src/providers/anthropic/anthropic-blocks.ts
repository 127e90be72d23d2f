import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { asRecord } from "../../json-shape.js";
import type { AnthropicToolResultBlock } from "./anthropic-chunk.js";

/** A `text` block: its citations not yet attached to a text delta. */
export interface TextBlock {
  readonly kind: "text";
  citations: JsonValue[];
}

/** A `thinking` or `redacted_thinking` block. */
export interface ThinkingBlock {
  readonly kind: "thinking";
}

/** A `tool_use`, `server_tool_use` or `mcp_tool_use` block: one tool call. */
export interface ToolBlock {
  readonly kind: "tool";
  readonly id: string;
  readonly name: string;
  readonly providerExecuted: boolean;
  /** The concatenated `input_json_delta.partial_json`. */
  json: string;
  /** The block's `input` at `content_block_start` as JSON text when it was not empty (sent whole, without deltas). */
  readonly startInput: string | undefined;
  /** True once `tool_call_completed` was emitted. */
  done: boolean;
}

/** A `*_tool_result` block: a server tool's result, emitted whole at its start. */
export interface ResultBlock {
  readonly kind: "result";
}

/** A block of a type this mapper does not know (e.g. `compaction`): kept whole in metadata when it stops. */
export interface OtherBlock {
  readonly kind: "other";
  readonly block: JsonObject;
  readonly deltas: JsonValue[];
  /** True once its metadata event was emitted. */
  flushed: boolean;
}

/** One content block of the message, by its `index`. */
export type Block = TextBlock | ThinkingBlock | ToolBlock | ResultBlock | OtherBlock;

/**
 * A value parsed from JSON text, typed as protobuf-es JSON. Sound because
 * every value `JSON.parse` returns is a JSON value.
 */
export function json(v: unknown): JsonValue {
  return v as JsonValue;
}

/**
 * `record` as a JSON object without its keys whose value is undefined (a
 * field of the wrong type the chunk schema read as absent): a delta kept
 * whole in metadata.
 */
export function definedJson(record: Readonly<Record<string, unknown>>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = json(v);
  return out;
}

/**
 * The keys of `record` other than `known` whose value is not null, as a JSON
 * object (the provider's extras for `provider_metadata`); undefined when
 * there are none.
 */
export function extras(record: Readonly<Record<string, unknown>>, known: readonly string[]): JsonObject | undefined {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(record)) {
    if (!known.includes(k) && v !== null && v !== undefined) out[k] = json(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Whether a result block reports a failure: `is_error: true`
 * (`mcp_tool_result`), or a `content` object whose `type` ends in `_error`
 * (`web_search_tool_result_error`, `web_fetch_tool_error`,
 * `code_execution_tool_result_error`, …).
 *
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool#errors
 */
export function isErrorResult(block: AnthropicToolResultBlock): boolean {
  if (block.is_error === true) return true;
  const type = asRecord(block.content)?.["type"]; // the content is free-form JSON
  return typeof type === "string" && type.endsWith("_error");
}

/** True when `text` parses as JSON. */
export function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
