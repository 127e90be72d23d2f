import { type GenerateRequest, type Message, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** A Chat Completions message of the request body. */
export type OpenAIChatMessage =
  | { role: "system" | "user"; content: string; name?: string }
  | {
      role: "assistant";
      content: string | null;
      name?: string;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };

/** The JSON body of `POST /chat/completions` that {@link toOpenAIRequest} builds. */
export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIChatMessage[];
  stream: true;
  /** Left out when {@link ToOpenAIRequestOptions.includeUsage} is false. */
  stream_options?: { include_usage: true };
  tools?: { type: "function"; function: { name: string; description?: string; parameters: object } }[];
  tool_choice?: "auto" | "none" | "required" | { type: "function"; function: { name: string } };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
  seed?: number;
  reasoning_effort?: "low" | "medium" | "high";
}

/** Options of {@link toOpenAIRequest}. */
export interface ToOpenAIRequestOptions {
  /**
   * The body field for `max_output_tokens`. `max_tokens` is what compatible
   * servers (vLLM, Ollama, llama.cpp, TGI, Groq, …) accept; OpenAI deprecated
   * it and its reasoning models refuse it, so the provider uses
   * `max_completion_tokens` for api.openai.com.
   */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /**
   * Send `stream_options: {include_usage: true}` (default true), so the
   * stream ends with a usage chunk. False for servers that reject the field
   * (older TGI, some proxies).
   */
  includeUsage?: boolean | undefined;
}

/**
 * Maps a validated {@link GenerateRequest} to a streaming Chat Completions body.
 *
 * - Messages keep their order. SYSTEM/USER → `system`/`user` with the text
 *   parts joined by `"\n"`; ASSISTANT → `assistant` with the text (or null)
 *   and its `tool_call` parts as `tool_calls` (empty arguments as `{}`); each
 *   `tool_result` part of a TOOL message → its own `tool` message with
 *   `tool_call_id` (the API has no error flag: `is_error` is not sent, the
 *   result text should say so). `Message.name` → `name`.
 * - Tools → `{type: "function", function: {name, description, parameters}}`
 *   (parameters default to an empty object schema); `tool_choice` mode AUTO,
 *   NONE, REQUIRED → `"auto"`, `"none"`, `"required"`, a tool name →
 *   `{type: "function", function: {name}}`; UNSPECIFIED, and any choice
 *   without tools (OpenAI refuses that), is left out.
 * - `temperature`, `top_p`, `stop`, `seed` as is; `max_output_tokens` → the
 *   field named by `o.maxTokensField`; `reasoning.effort` LOW/MEDIUM/HIGH →
 *   `reasoning_effort` (NONE and UNSPECIFIED are left out: not every server
 *   accepts `"none"`, so the server's default applies).
 * - Always `stream: true`; `stream_options: {include_usage: true}` unless
 *   `o.includeUsage` is false.
 * - Metadata is not sent (OpenAI only stores it with `store: true`).
 *
 * Raises a ConnectError with Code.InvalidArgument for a seed beyond ±2^53
 * (JSON numbers lose precision there).
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
export function toOpenAIRequest(req: GenerateRequest, model: string, o: ToOpenAIRequestOptions): OpenAIChatRequest {
  const body: OpenAIChatRequest = {
    model,
    messages: req.messages.flatMap(toMessages),
    stream: true,
    ...(o.includeUsage === false ? {} : { stream_options: { include_usage: true as const } }),
  };
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.parameters ?? { type: "object", properties: {} },
      },
    }));
  }
  const choice = req.tools.length > 0 ? req.toolChoice?.choice : undefined; // OpenAI refuses tool_choice without tools
  if (choice?.case === "toolName") body.tool_choice = { type: "function", function: { name: choice.value } };
  if (choice?.case === "mode") {
    const mode = { [ToolChoiceMode.AUTO]: "auto", [ToolChoiceMode.NONE]: "none", [ToolChoiceMode.REQUIRED]: "required" } as const;
    if (choice.value in mode) body.tool_choice = mode[choice.value as keyof typeof mode];
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.maxOutputTokens !== undefined) body[o.maxTokensField] = req.maxOutputTokens;
  if (req.stopSequences.length > 0) body.stop = [...req.stopSequences];
  if (req.seed !== undefined) {
    if (req.seed > BigInt(Number.MAX_SAFE_INTEGER) || req.seed < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ConnectError("seed: must be within ±2^53 for openai-chat", Code.InvalidArgument);
    }
    body.seed = Number(req.seed);
  }
  const effort = { [ReasoningEffort.LOW]: "low", [ReasoningEffort.MEDIUM]: "medium", [ReasoningEffort.HIGH]: "high" } as const;
  const e = req.reasoning?.effort;
  if (e !== undefined && e in effort) body.reasoning_effort = effort[e as keyof typeof effort];
  return body;
}

function toMessages(m: Message): OpenAIChatMessage[] {
  const text = m.parts.flatMap((p) => (p.part.case === "text" ? [p.part.value] : [])).join("\n");
  const name = m.name ? { name: m.name } : {};
  switch (m.role) {
    case Role.SYSTEM:
      return [{ role: "system", content: text, ...name }];
    case Role.USER:
      return [{ role: "user", content: text, ...name }];
    case Role.ASSISTANT: {
      const calls = m.parts.flatMap((p) =>
        p.part.case === "toolCall"
          ? [
              {
                id: p.part.value.callId,
                type: "function" as const,
                function: { name: p.part.value.name, arguments: p.part.value.argumentsJson || "{}" },
              },
            ]
          : [],
      );
      const hasText = m.parts.some((p) => p.part.case === "text");
      return [{ role: "assistant", content: hasText ? text : null, ...name, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
    }
    case Role.TOOL:
      return m.parts.flatMap((p) =>
        p.part.case === "toolResult" ? [{ role: "tool" as const, tool_call_id: p.part.value.callId, content: p.part.value.result }] : [],
      );
    default:
      throw new ConnectError("messages: role is required", Code.InvalidArgument);
  }
}
