/**
 * The state of the Responses mapper for one stream: the output items seen
 * (by `output_index` and id), their tool calls and streamed text, usage,
 * and whether the terminal event was emitted. @private
 */
import type { JsonValue } from "@bufbuild/protobuf";
import type { UsageInit } from "@airwave/proto";
import type { OpenAIResponsesChunk } from "./openai-responses-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/** One tool call being streamed. @private */
export interface CallState {
  /** The Airwave call id: the item's `call_id`, else its `id` (built-in tools). */
  readonly id: string;
  readonly name: string;
  /** `function` and `mcp` stream JSON text, `custom` streams free text (wrapped), `item` comes whole at `output_item.done`. */
  readonly kind: "function" | "custom" | "mcp" | "item";
  readonly providerExecuted: boolean;
  /** The concatenated `tool_call_delta` text emitted so far. */
  streamed: string;
  /** Custom tools: the raw input text received so far. */
  input: string;
  /** True once `tool_call_completed` was emitted. */
  done: boolean;
  /** Arguments that did not parse, held until the terminal event decides (cut → incomplete, else failed). */
  invalid: string | undefined;
}

/** One output item (`response.output[output_index]`). @private */
export interface ItemState {
  readonly outputIndex: number;
  readonly type: string;
  readonly call: CallState | undefined;
  /** Message `phase` (e.g. `commentary`) still to attach to the item's first text delta. */
  phase: string | undefined;
  /** Text emitted per part, keyed `t:<content_index>` (output text), `r:` (refusal), `s:<summary_index>` (summary), `c:` (reasoning text). */
  readonly texts: Map<string, string>;
  done: boolean;
}

/** State of `openAIResponsesMapper` for one stream. */
export interface OpenAIResponsesState {
  /** The highest `sequence_number` seen. */
  lastSeq: number | undefined;
  /** The latest usage reported. */
  usage: UsageInit | undefined;
  /** Output items by `output_index`. */
  readonly items: Map<number, ItemState>;
  /** Output items by item id. */
  readonly byId: Map<string, ItemState>;
  /** Tool calls started (client and provider-executed): the next call's `index`. */
  calls: number;
  /** Client tool calls started (they make a completed response TOOL_CALLS). */
  clientCalls: number;
  /** True when the answer contained a refusal. */
  refused: boolean;
  /** Non-empty `annotations` of finished message parts (citations), for the terminal's metadata. */
  readonly annotations: JsonValue[];
}

/** A fresh state. */
export function initialState(): OpenAIResponsesState {
  return {
    lastSeq: undefined,
    usage: undefined,
    items: new Map(),
    byId: new Map(),
    calls: 0,
    clientCalls: 0,
    refused: false,
    annotations: [],
  };
}

/** The item an event refers to (by `output_index`, else `item_id`); created on the fly for text without `output_item.added`. */
export function item(s: OpenAIResponsesState, e: OpenAIResponsesChunk, type: "message" | "reasoning"): ItemState {
  const found = findItem(s, e);
  if (found) return found;
  return register(s, e.output_index ?? freeIndex(s), nonEmpty(e.item_id), { type, call: undefined, phase: undefined });
}

/** An output index no item has yet (for a server that leaves `output_index` out): one past the highest. */
export function freeIndex(s: OpenAIResponsesState): number {
  return s.items.size === 0 ? 0 : Math.max(...s.items.keys()) + 1;
}

/** The item an event refers to, by `output_index`, else by `item_id`; undefined when unknown. */
export function findItem(s: OpenAIResponsesState, e: OpenAIResponsesChunk): ItemState | undefined {
  const i = e.output_index;
  const byIndex = i === undefined ? undefined : s.items.get(i);
  if (byIndex) return byIndex;
  const id = nonEmpty(e.item_id);
  return id === undefined ? undefined : s.byId.get(id);
}

/** Records an output item under its `output_index` and id. */
export function register(
  s: OpenAIResponsesState,
  outputIndex: number,
  id: string | undefined,
  o: { type: string; call: CallState | undefined; phase: string | undefined },
): ItemState {
  const it: ItemState = { outputIndex, ...o, texts: new Map(), done: false };
  s.items.set(outputIndex, it);
  if (id !== undefined) s.byId.set(id, it);
  return it;
}

/** The `usage` option of a `failed` event: `latest` (which becomes the state's usage) or the last usage seen. */
export function withUsage(s: OpenAIResponsesState, latest?: UsageInit): { usage?: UsageInit } {
  if (latest) s.usage = latest;
  return s.usage ? { usage: s.usage } : {};
}
