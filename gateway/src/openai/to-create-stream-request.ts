import { create, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type GenerateRequestSchema,
  type MessageSchema,
  OnDetach,
  type PartSchema,
  ReasoningEffort,
  Role,
  type ToolChoiceSchema,
  ToolChoiceMode,
  type ToolSchema,
} from "@airwave/proto";
import { withOpenAIParam } from "../errors/openai-error.js";

/**
 * A Chat Completions request (`POST /v1/chat/completions`) as the gateway
 * runs it: the CreateStream request, and the two options that shape the
 * answer rather than the generation.
 */
export interface ChatCompletionParams {
  /** The CreateStream request: the mapped GenerateRequest, the stream id and detach policy of the `airwave-*` headers. */
  readonly create: CreateStreamRequest;
  /** `stream: true`: answer SSE chunks; otherwise one `chat.completion` object. */
  readonly stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage` and empty `choices`, and `"usage": null` on every other chunk. */
  readonly includeUsage: boolean;
}

/** The Airwave request headers of the OpenAI-compatible routes (absent: the defaults). */
export interface AirwaveRequestHeaders {
  /** `Airwave-On-Detach`: `cancel` (the default, {@link openaiDefaultOnDetach}), `cancel_after_grace` or `continue` (any case; or `ON_DETACH_*`). */
  readonly onDetach?: string | undefined;
  /** `Airwave-Stream-Id`: a client-chosen stream id (`[A-Za-z0-9_-]{22,128}`), making the create idempotent. */
  readonly streamId?: string | undefined;
}

/**
 * The detach policy of streams created through the OpenAI-compatible
 * routes when `Airwave-On-Detach` is absent: ON_DETACH_CANCEL. The OpenAI
 * SDKs stop a stream (`stream.controller.abort()`, `break`, an
 * `AbortSignal`) only by closing the connection, so for their users closing
 * must reach the model at once, as it does with OpenAI itself. A client that
 * wants to resume after a lost connection sends `Airwave-On-Detach:
 * cancel_after_grace` (or `continue`).
 */
export const openaiDefaultOnDetach = OnDetach.CANCEL;

/** Request keys mapped onto the GenerateRequest. */
const mappedKeys = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "seed",
  "n",
  "reasoning_effort",
  "metadata",
]);

/**
 * Request keys accepted and ignored: hints that change neither what is
 * generated nor its form (`user`, `safety_identifier`, `prompt_cache_key`,
 * `prompt_cache_retention`, `store`, `service_tier`, `prediction`), and two
 * the contract cannot express but no client depends on for correctness:
 * `parallel_tool_calls` and `verbosity`.
 */
export const ignoredKeys: ReadonlySet<string> = new Set([
  "user",
  "safety_identifier",
  "prompt_cache_key",
  "prompt_cache_retention",
  "store",
  "service_tier",
  "prediction",
  "parallel_tool_calls",
  "verbosity",
]);

/**
 * Request keys the contract cannot carry: accepted only with their default
 * (or null), otherwise a 400 `unsupported_parameter`. A request must not
 * silently get something else than it asked for.
 */
const defaultOnly: Readonly<Record<string, (v: unknown) => boolean>> = {
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  logit_bias: (v) => isObject(v) && Object.keys(v).length === 0,
  response_format: (v) => isObject(v) && v["type"] === "text",
  modalities: (v) => Array.isArray(v) && v.every((m) => m === "text"),
  audio: () => false,
  web_search_options: () => false,
  functions: () => false,
  function_call: () => false,
};

/** `reasoning_effort` values and the contract's effort each becomes. */
const efforts: Readonly<Record<string, ReasoningEffort>> = {
  none: ReasoningEffort.NONE,
  minimal: ReasoningEffort.LOW,
  low: ReasoningEffort.LOW,
  medium: ReasoningEffort.MEDIUM,
  high: ReasoningEffort.HIGH,
  xhigh: ReasoningEffort.HIGH,
};

const roles: Readonly<Record<string, Role>> = {
  system: Role.SYSTEM,
  developer: Role.SYSTEM,
  user: Role.USER,
  assistant: Role.ASSISTANT,
  tool: Role.TOOL,
};

type GenerateInit = MessageInitShape<typeof GenerateRequestSchema>;
type MessageInit = MessageInitShape<typeof MessageSchema>;
type PartInit = MessageInitShape<typeof PartSchema>;

/**
 * Maps a Chat Completions request body (parsed JSON; the API reference's
 * `POST /v1/chat/completions`, https://platform.openai.com/docs/api-reference/chat/create)
 * onto CreateStream:
 *
 * - `model` → `model` as is (`"simulator"`, `"simulator/fast"`,
 *   `"openai-compatible/gpt-4o-mini"`, an alias);
 * - `messages`: `system` and `developer` → ROLE_SYSTEM, `user`, `assistant`
 *   (text or `refusal` parts, `tool_calls` → tool_call parts), `tool`
 *   (`tool_call_id` and its text → one tool_result part); content a string
 *   or text parts; `name` → `name`. Other keys of a message (e.g. a
 *   replayed `reasoning_content`) are ignored: the contract has no
 *   reasoning part;
 * - `tools` (`type: "function"`) → tools; `tool_choice` `"none"`, `"auto"`,
 *   `"required"` → the mode, `{type:"function",function:{name}}` → that tool;
 * - `temperature`, `top_p`, `seed`, `stop` (a string or up to 4),
 *   `max_completion_tokens` (or, when it is absent, `max_tokens`) →
 *   `max_output_tokens`, `metadata` → `metadata` (so `simulator.*` keys steer
 *   the simulator), `reasoning_effort` → `reasoning.effort` (`none`;
 *   `minimal` and `low` → LOW; `medium`; `high` and `xhigh` → HIGH);
 * - `stream`, `stream_options.include_usage` → {@link ChatCompletionParams};
 * - `n`: only 1 (the contract asks for one answer).
 *
 * Keys in {@link ignoredKeys} are accepted and ignored; the sampling and
 * output-format keys the contract lacks (`frequency_penalty`,
 * `presence_penalty`, `logprobs`, `top_logprobs`, `logit_bias`,
 * `response_format` other than text, `modalities` other than text, `audio`,
 * `web_search_options`, the deprecated `functions` / `function_call`) only
 * with their default; image, audio and file content parts and custom tools
 * are refused; any other key is refused as OpenAI does ("Unrecognized
 * request argument supplied").
 *
 * Limits (message count, tool names, temperature range, …) are the
 * contract's, checked by the hub's `validateGenerateRequest`
 * ({@link openaiParamOf} names the parameter of its errors).
 *
 * Raises INVALID_ARGUMENT marked with the OpenAI `param` (and `code`
 * `unsupported_parameter`, `unsupported_value` or `unknown_parameter` where
 * one fits; see `withOpenAIParam`).
 */
export function toCreateStreamRequest(body: unknown, headers: AirwaveRequestHeaders = {}): ChatCompletionParams {
  if (!isObject(body)) throw bad(null, "the request body must be a JSON object");
  for (const [key, value] of Object.entries(body)) {
    if (mappedKeys.has(key) || ignoredKeys.has(key)) continue;
    const isDefault = defaultOnly[key];
    if (isDefault === undefined) throw bad(key, `Unrecognized request argument supplied: ${key.slice(0, 64)}`, "unknown_parameter");
    if (value !== null && !isDefault(value)) {
      throw bad(key, `${key} is not supported by Airwave (its contract has no such setting); leave it unset`, "unsupported_parameter");
    }
  }
  const request: GenerateInit = {
    model: requiredString(body, "model"),
    messages: messagesOf(body["messages"]),
  };
  if (body["tools"] != null) request.tools = toolsOf(body["tools"]);
  if (body["tool_choice"] != null) request.toolChoice = toolChoiceOf(body["tool_choice"]);
  const temperature = optionalNumber(body, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, "top_p");
  if (topP !== undefined) request.topP = topP;
  const maxKey = body["max_completion_tokens"] != null ? "max_completion_tokens" : "max_tokens";
  const max = optionalInteger(body, maxKey, 1, 0xffffffff);
  if (max !== undefined) request.maxOutputTokens = max;
  if (body["stop"] != null) request.stopSequences = stopOf(body["stop"]);
  const seed = optionalInteger(body, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (seed !== undefined) request.seed = BigInt(seed);
  const n = optionalInteger(body, "n", 1, 128);
  if (n !== undefined && n !== 1) {
    throw bad("n", "n > 1 is not supported: Airwave streams one answer per request; send n requests", "unsupported_value");
  }
  const effort = body["reasoning_effort"];
  if (effort != null) {
    const e = typeof effort === "string" ? efforts[effort] : undefined;
    if (e === undefined)
      throw bad("reasoning_effort", `reasoning_effort must be one of ${Object.keys(efforts).join(", ")}`, "unsupported_value");
    request.reasoning = { effort: e };
  }
  if (body["metadata"] != null) request.metadata = metadataOf(body["metadata"]);
  const stream = body["stream"];
  if (stream != null && typeof stream !== "boolean") throw bad("stream", "stream must be a boolean");
  const options = body["stream_options"];
  if (options != null && !isObject(options)) throw bad("stream_options", "stream_options must be an object");
  const includeUsage = options?.["include_usage"];
  if (includeUsage != null && typeof includeUsage !== "boolean") {
    throw bad("stream_options.include_usage", "stream_options.include_usage must be a boolean");
  }
  return {
    create: create(CreateStreamRequestSchema, {
      request,
      streamId: headers.streamId ?? "",
      onDetach: onDetachOf(headers.onDetach),
    }),
    stream: stream === true,
    includeUsage: stream === true && includeUsage === true,
  };
}

/**
 * The OpenAI parameter named by an INVALID_ARGUMENT of
 * `validateGenerateRequest`, whose message starts with the field path in
 * proto names (`messages[2].parts: …`, `temperature: …`): `messages[2]`,
 * `temperature`, `max_output_tokens` → `max_completion_tokens`,
 * `stop_sequences` → `stop`, `reasoning` → `reasoning_effort`, … Null when
 * the message names no field of the request body (e.g. `stream_id`, which
 * comes from a header).
 */
export function openaiParamOf(message: string): string | null {
  const m = /^([a-z_]+)(\[\d+\])?[.:[]/.exec(message);
  if (!m) return null;
  const [, field = "", index = ""] = m;
  const names: Record<string, string> = {
    model: "model",
    messages: "messages",
    tools: "tools",
    tool_choice: "tool_choice",
    temperature: "temperature",
    top_p: "top_p",
    max_output_tokens: "max_completion_tokens",
    stop_sequences: "stop",
    metadata: "metadata",
    reasoning: "reasoning_effort",
  };
  const name = names[field];
  if (name === undefined) return null;
  return field === "messages" || field === "tools" ? `${name}${index}` : name;
}

function messagesOf(v: unknown): MessageInit[] {
  if (!Array.isArray(v) || v.length === 0) throw bad("messages", "messages must be a non-empty array");
  return v.map((m, i) => messageOf(m, `messages[${i}]`));
}

function messageOf(m: unknown, path: string): MessageInit {
  if (!isObject(m)) throw bad(path, `${path} must be an object`);
  const roleName = m["role"];
  const role = typeof roleName === "string" ? roles[roleName] : undefined;
  if (role === undefined) {
    throw bad(`${path}.role`, `${path}.role must be one of system, developer, user, assistant, tool`, "unsupported_value");
  }
  const out: MessageInit = { role, parts: [] };
  const name = m["name"];
  if (name != null) {
    if (typeof name !== "string") throw bad(`${path}.name`, `${path}.name must be a string`);
    out.name = name;
  }
  const content = m["content"];
  switch (role) {
    case Role.TOOL: {
      const callId = m["tool_call_id"];
      if (typeof callId !== "string" || callId === "") throw bad(`${path}.tool_call_id`, `${path}.tool_call_id is required`);
      const result = textsOf(content, `${path}.content`, false).join("");
      out.parts = [{ part: { case: "toolResult", value: { callId, result } } }];
      return out;
    }
    case Role.ASSISTANT: {
      const parts: PartInit[] = textsOf(content, `${path}.content`, true).map(textPart);
      const calls = m["tool_calls"];
      if (calls != null) {
        if (!Array.isArray(calls)) throw bad(`${path}.tool_calls`, `${path}.tool_calls must be an array`);
        calls.forEach((c, j) => {
          parts.push(toolCallPart(c, `${path}.tool_calls[${j}]`));
        });
      }
      out.parts = parts.length > 0 ? parts : [textPart("")];
      return out;
    }
    default:
      if (content == null) throw bad(`${path}.content`, `${path}.content is required`);
      out.parts = textsOf(content, `${path}.content`, false).map(textPart);
      if (out.parts.length === 0) out.parts = [textPart("")];
      return out;
  }
}

/** The texts of a content: a string, null, or an array of `text` (and for the assistant `refusal`) parts. */
function textsOf(content: unknown, path: string, assistant: boolean): string[] {
  if (content == null) return [];
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) throw bad(path, `${path} must be a string or an array of content parts`);
  return content.map((p, j) => {
    const at = `${path}[${j}]`;
    if (!isObject(p)) throw bad(at, `${at} must be an object`);
    const type = p["type"];
    if (type === "text" && typeof p["text"] === "string") return p["text"];
    if (assistant && type === "refusal" && typeof p["refusal"] === "string") return p["refusal"];
    if (type === "text") throw bad(`${at}.text`, `${at}.text must be a string`);
    throw bad(
      `${at}.type`,
      `content parts of type ${JSON.stringify(String(type).slice(0, 40))} are not supported: the Airwave contract carries text only`,
      "unsupported_value",
    );
  });
}

function textPart(text: string): PartInit {
  return { part: { case: "text", value: text } };
}

function toolCallPart(c: unknown, path: string): PartInit {
  if (!isObject(c)) throw bad(path, `${path} must be an object`);
  if (c["type"] != null && c["type"] !== "function") {
    throw bad(`${path}.type`, `${path}.type must be "function": custom tool calls are not supported`, "unsupported_value");
  }
  const fn = c["function"];
  if (!isObject(fn)) throw bad(`${path}.function`, `${path}.function must be an object`);
  const callId = c["id"];
  if (typeof callId !== "string" || callId === "") throw bad(`${path}.id`, `${path}.id is required`);
  const name = requiredString(fn, "name", `${path}.function.name`);
  const args = fn["arguments"] ?? "";
  if (typeof args !== "string") throw bad(`${path}.function.arguments`, `${path}.function.arguments must be a JSON string`);
  return { part: { case: "toolCall", value: { callId, name, argumentsJson: args } } };
}

function toolsOf(v: unknown): MessageInitShape<typeof ToolSchema>[] {
  if (!Array.isArray(v)) throw bad("tools", "tools must be an array");
  return v.map((t, i) => {
    const path = `tools[${i}]`;
    if (!isObject(t)) throw bad(path, `${path} must be an object`);
    if (t["type"] !== "function") {
      throw bad(`${path}.type`, `${path}.type must be "function": custom tools are not supported`, "unsupported_value");
    }
    const fn = t["function"];
    if (!isObject(fn)) throw bad(`${path}.function`, `${path}.function must be an object`);
    const tool: MessageInitShape<typeof ToolSchema> = { name: requiredString(fn, "name", `${path}.function.name`) };
    const description = fn["description"];
    if (description != null) {
      if (typeof description !== "string") throw bad(`${path}.function.description`, `${path}.function.description must be a string`);
      tool.description = description;
    }
    const parameters = fn["parameters"];
    if (parameters != null) {
      if (!isObject(parameters)) throw bad(`${path}.function.parameters`, `${path}.function.parameters must be a JSON Schema object`);
      tool.parameters = parameters as JsonObject;
    }
    return tool;
  });
}

function toolChoiceOf(v: unknown): MessageInitShape<typeof ToolChoiceSchema> {
  const modes: Record<string, ToolChoiceMode> = {
    auto: ToolChoiceMode.AUTO,
    none: ToolChoiceMode.NONE,
    required: ToolChoiceMode.REQUIRED,
  };
  if (typeof v === "string" && modes[v] !== undefined) return { choice: { case: "mode", value: modes[v] } };
  if (isObject(v) && v["type"] === "function" && isObject(v["function"])) {
    return { choice: { case: "toolName", value: requiredString(v["function"], "name", "tool_choice.function.name") } };
  }
  throw bad(
    "tool_choice",
    'tool_choice must be "none", "auto", "required" or {"type":"function","function":{"name":…}} (allowed_tools and custom are not supported)',
    "unsupported_value",
  );
}

function stopOf(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  throw bad("stop", "stop must be a string or an array of strings");
}

function metadataOf(v: unknown): Record<string, string> {
  if (!isObject(v)) throw bad("metadata", "metadata must be an object of strings");
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== "string") throw bad("metadata", `metadata[${JSON.stringify(k.slice(0, 64))}] must be a string`);
  }
  return v as Record<string, string>;
}

function onDetachOf(v: string | undefined): OnDetach {
  if (v === undefined || v === "") return openaiDefaultOnDetach;
  const name = v
    .trim()
    .toLowerCase()
    .replace(/^on_detach_/, "");
  const by: Record<string, OnDetach> = {
    cancel: OnDetach.CANCEL,
    cancel_after_grace: OnDetach.CANCEL_AFTER_GRACE,
    continue: OnDetach.CONTINUE,
  };
  const policy = by[name];
  if (policy === undefined) {
    throw bad(null, `the Airwave-On-Detach header must be cancel, cancel_after_grace or continue, got ${JSON.stringify(v.slice(0, 40))}`);
  }
  return policy;
}

function requiredString(o: Record<string, unknown>, key: string, path = key): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw bad(path, `${path} is required and must be a non-empty string`);
  return v;
}

function optionalNumber(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v == null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(key, `${key} must be a number`);
  return v;
}

function optionalInteger(o: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v == null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw bad(key, `${key} must be an integer from ${min} to ${max}`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(param: string | null, message: string, code?: string): ConnectError {
  return withOpenAIParam(new ConnectError(message, Code.InvalidArgument), param, code);
}
