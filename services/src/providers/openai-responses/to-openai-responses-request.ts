import type { JsonObject } from "@bufbuild/protobuf";
import { type GenerateRequest, type Message, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** One item of the request's `input`. */
export type OpenAIResponsesInputItem =
  | { type: "message"; role: "system" | "user" | "assistant"; content: string }
  | { type: "function_call"; call_id: string; name: string; arguments: string }
  | { type: "function_call_output"; call_id: string; output: string };

/** The JSON body of `POST /responses` that {@link toOpenAIResponsesRequest} builds. */
export interface OpenAIResponsesRequest {
  model: string;
  input: OpenAIResponsesInputItem[];
  stream: true;
  tools?: ({ type: "function"; name: string; description?: string; parameters: JsonObject; strict: false } | JsonObject)[];
  tool_choice?: "auto" | "none" | "required" | { type: "function"; name: string };
  temperature?: number;
  top_p?: number;
  max_output_tokens?: number;
  reasoning?: { effort: "low" | "medium" | "high"; summary?: "auto" | "concise" | "detailed" };
  metadata?: Record<string, string>;
  store?: boolean;
  include?: string[];
}

/**
 * Options of the `openai-responses` kind, from the routing configuration's
 * `options` (all optional):
 *
 * - `reasoningSummary`: `"auto"` (default), `"concise"`, `"detailed"`, or
 *   `"none"` — the `reasoning.summary` sent with a reasoning effort. Without a
 *   summary OpenAI streams no reasoning text at all.
 * - `store`: boolean, sent as `store` (OpenAI's default is true: responses are
 *   kept 30 days). Airwave resends the whole conversation, so `false` works.
 * - `include`: string array, sent as `include` (e.g.
 *   `["reasoning.encrypted_content"]` with `store: false`, so reasoning
 *   items come back with the signature Airwave reports).
 * - `builtinTools`: array of tool objects appended to `tools` as is (e.g.
 *   `[{"type": "web_search"}]`); their calls stream as provider-executed
 *   tool calls.
 */
export interface OpenAIResponsesOptions {
  readonly reasoningSummary?: "auto" | "concise" | "detailed" | "none";
  readonly store?: boolean;
  readonly include?: readonly string[];
  readonly builtinTools?: readonly JsonObject[];
}

/**
 * Reads {@link OpenAIResponsesOptions} from a configuration's `options`.
 *
 * @throws ConnectError Code.Internal when an option has the wrong type (a
 * configuration error of the operator, not of the caller).
 */
export function readOpenAIResponsesOptions(options: Readonly<Record<string, unknown>> | undefined): OpenAIResponsesOptions {
  const o = options ?? {};
  const bad = (k: string) => new ConnectError(`openai-responses: option ${k} has the wrong type`, Code.Internal);
  const out: { -readonly [K in keyof OpenAIResponsesOptions]: OpenAIResponsesOptions[K] } = {};
  const summary = o["reasoningSummary"];
  if (summary !== undefined) {
    if (summary !== "auto" && summary !== "concise" && summary !== "detailed" && summary !== "none") throw bad("reasoningSummary");
    out.reasoningSummary = summary;
  }
  if (o["store"] !== undefined) {
    if (typeof o["store"] !== "boolean") throw bad("store");
    out.store = o["store"];
  }
  const include = o["include"];
  if (include !== undefined) {
    if (!Array.isArray(include) || !include.every((x) => typeof x === "string")) throw bad("include");
    out.include = include as string[];
  }
  const builtin = o["builtinTools"];
  if (builtin !== undefined) {
    if (!Array.isArray(builtin) || !builtin.every((x) => typeof x === "object" && x !== null && !Array.isArray(x))) {
      throw bad("builtinTools");
    }
    out.builtinTools = builtin as JsonObject[];
  }
  return out;
}

/**
 * Maps a validated {@link GenerateRequest} to a streaming Responses API body.
 *
 * - Messages keep their order as `input` items. SYSTEM/USER/ASSISTANT text
 *   parts → one `{type: "message", role, content}` item per message (parts
 *   joined by `"\n"`; `system` rather than `instructions`, so the order is
 *   kept). An ASSISTANT `tool_call` part → a `function_call` item (empty
 *   arguments as `{}`), after the message's text; each `tool_result` part of a
 *   TOOL message → a `function_call_output` item (the API has no error flag or
 *   author name: `is_error` and `Message.name` are not sent).
 * - Tools → `{type: "function", name, description, parameters, strict:
 *   false}` (the API defaults to strict schemas, which reject most schemas
 *   written for other providers); parameters default to an empty object
 *   schema; then the configured `builtinTools`. `tool_choice` AUTO, NONE,
 *   REQUIRED → `"auto"`, `"none"`, `"required"`, a tool name →
 *   `{type: "function", name}`; UNSPECIFIED, and any choice without tools,
 *   is left out.
 * - `temperature`, `top_p`, `max_output_tokens` as is; `reasoning.effort`
 *   LOW/MEDIUM/HIGH → `reasoning: {effort, summary}` (summary from
 *   `reasoningSummary`, default `"auto"`); NONE and UNSPECIFIED leave
 *   `reasoning` out (the model's default applies; not every model accepts
 *   `"none"`). The seed is not sent: the Responses API has none.
 * - `metadata` → `metadata`, except the `simulator.*` keys.
 * - `store` and `include` from the options; always `stream: true`.
 *
 * @throws ConnectError Code.InvalidArgument for `stop_sequences` (the
 * Responses API has no stop sequences) and for a message without a role.
 * @see https://platform.openai.com/docs/api-reference/responses/create
 */
export function toOpenAIResponsesRequest(req: GenerateRequest, model: string, o: OpenAIResponsesOptions = {}): OpenAIResponsesRequest {
  if (req.stopSequences.length > 0) {
    throw new ConnectError("stop_sequences: the openai-responses provider has no stop sequences", Code.InvalidArgument);
  }
  const body: OpenAIResponsesRequest = { model, input: req.messages.flatMap(toInputItems), stream: true };
  const tools: NonNullable<OpenAIResponsesRequest["tools"]> = req.tools.map((t) => ({
    type: "function" as const,
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    parameters: t.parameters ?? { type: "object", properties: {} },
    strict: false as const,
  }));
  tools.push(...(o.builtinTools ?? []));
  if (tools.length > 0) body.tools = tools;
  const choice = req.tools.length > 0 ? req.toolChoice?.choice : undefined;
  if (choice?.case === "toolName") body.tool_choice = { type: "function", name: choice.value };
  if (choice?.case === "mode") {
    const mode = { [ToolChoiceMode.AUTO]: "auto", [ToolChoiceMode.NONE]: "none", [ToolChoiceMode.REQUIRED]: "required" } as const;
    if (choice.value in mode) body.tool_choice = mode[choice.value as keyof typeof mode];
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.maxOutputTokens !== undefined) body.max_output_tokens = req.maxOutputTokens;
  const efforts = { [ReasoningEffort.LOW]: "low", [ReasoningEffort.MEDIUM]: "medium", [ReasoningEffort.HIGH]: "high" } as const;
  const e = req.reasoning?.effort;
  if (e !== undefined && e in efforts) {
    const summary = o.reasoningSummary ?? "auto";
    body.reasoning = { effort: efforts[e as keyof typeof efforts], ...(summary !== "none" ? { summary } : {}) };
  }
  const metadata = Object.fromEntries(Object.entries(req.metadata).filter(([k]) => !k.startsWith("simulator.")));
  if (Object.keys(metadata).length > 0) body.metadata = metadata;
  if (o.store !== undefined) body.store = o.store;
  if (o.include !== undefined && o.include.length > 0) body.include = [...o.include];
  return body;
}

function toInputItems(m: Message): OpenAIResponsesInputItem[] {
  const texts = m.parts.flatMap((p) => (p.part.case === "text" ? [p.part.value] : []));
  const text = texts.join("\n");
  switch (m.role) {
    case Role.SYSTEM:
      return [{ type: "message", role: "system", content: text }];
    case Role.USER:
      return [{ type: "message", role: "user", content: text }];
    case Role.ASSISTANT: {
      const items: OpenAIResponsesInputItem[] = texts.length > 0 ? [{ type: "message", role: "assistant", content: text }] : [];
      for (const p of m.parts) {
        if (p.part.case !== "toolCall") continue;
        const c = p.part.value;
        items.push({ type: "function_call", call_id: c.callId, name: c.name, arguments: c.argumentsJson || "{}" });
      }
      return items;
    }
    case Role.TOOL:
      return m.parts.flatMap((p) =>
        p.part.case === "toolResult"
          ? [{ type: "function_call_output" as const, call_id: p.part.value.callId, output: p.part.value.result }]
          : [],
      );
    default:
      throw new ConnectError("messages: role is required", Code.InvalidArgument);
  }
}
