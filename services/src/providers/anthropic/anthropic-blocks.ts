import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { asRecord } from "./anthropic-chunk.js";

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

/** True for a tool call block: `tool_use` (client tool) or a tool the provider runs (`server_tool_use`, `mcp_tool_use`). */
export function isToolUseType(type: string): boolean {
  return type === "tool_use" || type === "server_tool_use" || type === "mcp_tool_use";
}

/**
 * True for a server tool's result block: `web_search_tool_result`,
 * `web_fetch_tool_result`, `code_execution_tool_result`,
 * `bash_code_execution_tool_result`, `text_editor_code_execution_tool_result`,
 * `tool_search_tool_result`, `mcp_tool_result`, and later `*_tool_result`
 * types.
 */
export function isToolResultType(type: string): boolean {
  return type.endsWith("_tool_result");
}

/**
 * Whether a result block reports a failure: `is_error: true`
 * (`mcp_tool_result`), or a `content` object whose `type` ends in `_error`
 * (`web_search_tool_result_error`, `web_fetch_tool_error`,
 * `code_execution_tool_result_error`, …).
 *
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool#errors
 */
export function isErrorResult(block: Readonly<Record<string, unknown>>): boolean {
  if (block["is_error"] === true) return true;
  const type = asRecord(block["content"])?.["type"];
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
