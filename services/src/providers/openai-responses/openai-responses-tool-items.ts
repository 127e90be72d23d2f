import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { OpenAIResponsesItem } from "./openai-responses-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/** How an output item that is a tool call (other than `function_call` and `custom_tool_call`) becomes Airwave events. */
export interface ToolItemKind {
  /** The tool name Airwave reports; `"item.name"` means the item's own `name` (MCP calls). */
  readonly name: string;
  /** True for built-in tools OpenAI runs itself (their results arrive in the same item). */
  readonly providerExecuted: boolean;
  /** The item fields that form the call's arguments object (absent fields are left out). */
  readonly args: readonly string[];
  /** The item fields that form the `tool_result` (provider-executed tools only); `"output"` alone is passed as text. */
  readonly result: readonly string[];
}

/**
 * Output item types that are tool calls, beside `function_call` and
 * `custom_tool_call` (which stream their arguments and are mapped on their
 * own):
 *
 * | item `type` | Airwave name | run by | arguments from | `tool_result` from |
 * |---|---|---|---|---|
 * | `web_search_call` | `web_search` | OpenAI | `action` | `status` |
 * | `file_search_call` | `file_search` | OpenAI | `queries` | `status`, `results` |
 * | `code_interpreter_call` | `code_interpreter` | OpenAI | `code`, `container_id` | `status`, `outputs` |
 * | `image_generation_call` | `image_generation` | OpenAI | — | `status`, `revised_prompt`, `result` (base64 image) |
 * | `mcp_call` | the item's `name` | OpenAI (remote MCP server) | `arguments` (streamed) | `output` as text, or `error` |
 * | `mcp_list_tools` | `mcp_list_tools` | OpenAI | `server_label` | `tools`, `error` |
 * | `apply_patch_call` | `apply_patch` | the client | `operation` | — |
 * | `shell_call` | `shell` | the client | `action` | — |
 * | `local_shell_call` | `local_shell` | the client | `action` | — |
 * | `computer_call` | `computer` | the client | `action`, `actions`, `pending_safety_checks` | — |
 *
 * `apply_patch`, `shell`, `local_shell` and `computer` are executed by the
 * application, not by OpenAI (the model emits the call; the application
 * runs it and answers with a `*_call_output` item), so they are ordinary
 * client tool calls: `provider_executed` false, and a response with one
 * finishes with TOOL_CALLS. Their call id is the item's `call_id`; built-in
 * calls have none and use the item `id`. The result is `isError` when the
 * item's `status` is `failed` or its `error` is set. Other item types
 * (`mcp_approval_request`, future ones) are not tool calls Airwave can
 * express and are ignored.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-output
 * @see https://platform.openai.com/docs/guides/tools
 * @see https://platform.openai.com/docs/guides/tools-apply-patch
 */
export const toolItemKinds: Readonly<Record<string, ToolItemKind>> = {
  web_search_call: { name: "web_search", providerExecuted: true, args: ["action"], result: ["status"] },
  file_search_call: { name: "file_search", providerExecuted: true, args: ["queries"], result: ["status", "results"] },
  code_interpreter_call: {
    name: "code_interpreter",
    providerExecuted: true,
    args: ["code", "container_id"],
    result: ["status", "outputs"],
  },
  image_generation_call: {
    name: "image_generation",
    providerExecuted: true,
    args: [],
    result: ["status", "revised_prompt", "result"],
  },
  mcp_call: { name: "item.name", providerExecuted: true, args: ["arguments"], result: ["output"] },
  mcp_list_tools: { name: "mcp_list_tools", providerExecuted: true, args: ["server_label"], result: ["tools"] },
  apply_patch_call: { name: "apply_patch", providerExecuted: false, args: ["operation"], result: [] },
  shell_call: { name: "shell", providerExecuted: false, args: ["action"], result: [] },
  local_shell_call: { name: "local_shell", providerExecuted: false, args: ["action"], result: [] },
  computer_call: {
    name: "computer",
    providerExecuted: false,
    args: ["action", "actions", "pending_safety_checks"],
    result: [],
  },
};

/** The Airwave tool name of `item` of `kind`. */
export function toolItemName(kind: ToolItemKind, item: OpenAIResponsesItem): string {
  return kind.name === "item.name" ? (nonEmpty(item.name) ?? "mcp_call") : kind.name;
}

/** The arguments JSON text of a finished tool item (never empty: at least `{}`). */
export function toolItemArguments(kind: ToolItemKind, item: OpenAIResponsesItem): string {
  if (kind.args.length === 1 && kind.args[0] === "arguments") return nonEmpty(item.arguments) ?? "{}";
  return JSON.stringify(pick(item, kind.args));
}

/**
 * The `tool_result` of a finished provider-executed tool item: the result
 * text (JSON, or MCP `output` text as is), and whether it is an error.
 * Undefined for client tools.
 */
export function toolItemResult(kind: ToolItemKind, item: OpenAIResponsesItem): { result: string; isError: boolean } | undefined {
  if (!kind.providerExecuted) return undefined;
  const error = item.error;
  const isError = item.status === "failed" || (error !== undefined && error !== null);
  if (isError && error !== undefined && error !== null) {
    return { result: typeof error === "string" ? error : JSON.stringify(error), isError };
  }
  if (kind.result.length === 1 && kind.result[0] === "output" && typeof item.output === "string") {
    return { result: item.output, isError };
  }
  return { result: JSON.stringify(pick(item, kind.result)), isError };
}

function pick(item: OpenAIResponsesItem, fields: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) {
    const v = item[f];
    if (v !== undefined) out[f] = v as JsonValue;
  }
  return out;
}
