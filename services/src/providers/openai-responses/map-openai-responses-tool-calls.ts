/**
 * Tool calls of the Responses mapper: function calls (JSON arguments
 * streamed), custom tools (free-text input streamed inside `{"input":"…"}`),
 * MCP calls, and the built-in and other tool items of `toolItemKinds`. @private
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/response/function_call_arguments/delta
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/response/custom_tool_call_input/delta
 */
import { ev, type StreamEvent, withExtras } from "@airwave/proto";
import type { OpenAIResponsesChunk, OpenAIResponsesItem } from "./openai-responses-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";
import { type CallState, findItem, type OpenAIResponsesState } from "./openai-responses-state.js";
import { type ToolItemKind, toolItemArguments, toolItemKinds, toolItemName, toolItemResult } from "./openai-responses-tool-items.js";
import { parsesAsJson } from "../../json-shape.js";

/** Starts the tool call an output item is, if it is one. */
export function startCall(s: OpenAIResponsesState, item: OpenAIResponsesItem, type: string, out: StreamEvent[]): CallState | undefined {
  const kind: ToolItemKind | undefined = toolItemKinds[type];
  let call: CallState;
  if (type === "function_call" || type === "custom_tool_call") {
    const id = nonEmpty(item.call_id) ?? nonEmpty(item.id) ?? `call_${s.calls}`;
    call = newCall(id, nonEmpty(item.name) ?? "", type === "function_call" ? "function" : "custom", false);
  } else if (kind) {
    const id = nonEmpty(item.call_id) ?? nonEmpty(item.id) ?? `call_${s.calls}`;
    call = newCall(id, toolItemName(kind, item), type === "mcp_call" ? "mcp" : "item", kind.providerExecuted);
  } else {
    return undefined;
  }
  const started = ev.toolCallStarted(call.id, call.name, s.calls++, { providerExecuted: call.providerExecuted });
  if (!call.providerExecuted) s.clientCalls++;
  // The schema keeps `server_label` as sent (it is also `mcp_list_tools`' arguments): read only a string.
  const label = typeof item.server_label === "string" ? nonEmpty(item.server_label) : undefined;
  out.push(label ? withExtras(started, { metadata: { server_label: label } }) : started);
  return call;
}

function newCall(id: string, name: string, kind: CallState["kind"], providerExecuted: boolean): CallState {
  return { id, name, kind, providerExecuted, streamed: "", input: "", done: false, invalid: undefined };
}

/** `function_call_arguments.delta` / `mcp_call_arguments.delta` → `tool_call_delta` of the call at that output index (or item id). */
export function jsonArgsDelta(s: OpenAIResponsesState, e: OpenAIResponsesChunk, out: StreamEvent[]): void {
  const call = findItem(s, e)?.call;
  // A fragment of a call never announced has no name yet: its output_item.done brings the whole call.
  if (call && !call.done && (call.kind === "function" || call.kind === "mcp")) argsDelta(call, e.delta as string, out);
}

/** Emits a non-empty arguments fragment of `call`. */
export function argsDelta(call: CallState, text: string, out: StreamEvent[]): void {
  if (text === "") return;
  call.streamed += text;
  out.push(ev.toolCallDelta(call.id, text));
}

/** `custom_tool_call_input.delta` → an escaped `tool_call_delta`. */
export function customInputDelta(s: OpenAIResponsesState, e: OpenAIResponsesChunk, out: StreamEvent[]): void {
  const call = findItem(s, e)?.call;
  if (call && !call.done && call.kind === "custom") inputDelta(call, e.delta as string, out);
}

/** Streams free-text input of a custom tool JSON-escaped inside `{"input":"…"}`. */
export function inputDelta(call: CallState, text: string, out: StreamEvent[]): void {
  if (text === "") return;
  const prefix = call.streamed === "" ? '{"input":"' : "";
  call.input += text;
  argsDelta(call, prefix + JSON.stringify(text).slice(1, -1), out);
}

/**
 * Completes a function or custom call with its whole arguments/input from a
 * `.done` event or the finished item (`whole`, when given). `cut` marks an
 * item the provider left `incomplete`.
 */
export function completeCall(call: CallState, whole: string | null | undefined, cut: boolean, out: StreamEvent[]): void {
  if (call.done) return;
  if (call.kind === "custom") {
    if (whole && whole.length > call.input.length && whole.startsWith(call.input)) {
      inputDelta(call, whole.slice(call.input.length), out);
    }
    if (cut) closeIncomplete(call, out);
    else {
      argsDelta(call, call.streamed === "" ? '{"input":""}' : '"}', out);
      close(call, call.streamed, out);
    }
    return;
  }
  if (whole && whole.length > call.streamed.length && whole.startsWith(call.streamed)) {
    argsDelta(call, whole.slice(call.streamed.length), out);
  }
  const args = call.streamed.trim() === "" ? "{}" : call.streamed;
  if (cut) closeIncomplete(call, out);
  else if (parsesAsJson(args)) close(call, args, out);
  else if (call.providerExecuted) closeIncomplete(call, out);
  else call.invalid = args; // a cut response closes it as incomplete, a completed one fails
}

/** Emits `tool_call_completed` with `args`. */
export function close(call: CallState, args: string, out: StreamEvent[]): void {
  call.done = true;
  out.push(ev.toolCallCompleted(call.id, call.name, args, { providerExecuted: call.providerExecuted }));
}

/** Emits `tool_call_completed` marked `incomplete`, with the raw streamed text. */
export function closeIncomplete(call: CallState, out: StreamEvent[]): void {
  call.done = true;
  out.push(ev.toolCallCompleted(call.id, call.name, call.streamed, { incomplete: true, providerExecuted: call.providerExecuted }));
}

/** A finished tool item of `toolItemKinds`: its whole arguments, completion, and for provider-executed tools its `tool_result`. */
export function finishToolItem(call: CallState, type: string, item: OpenAIResponsesItem, cut: boolean, out: StreamEvent[]): void {
  const kind = toolItemKinds[type];
  if (!kind) return;
  if (call.kind === "mcp") {
    completeCall(call, item.arguments, cut, out);
  } else {
    argsDelta(call, toolItemArguments(kind, item), out);
    if (cut) closeIncomplete(call, out);
    else close(call, call.streamed, out);
  }
  const result = toolItemResult(kind, item);
  if (result) out.push(ev.toolResult(call.id, result.result, { name: call.name, isError: result.isError }));
}
