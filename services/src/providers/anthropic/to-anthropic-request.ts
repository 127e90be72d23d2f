import { type GenerateRequest, type Message, type Part, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** A content block of a request message. */
export type AnthropicRequestBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: JsonObject }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error?: true };

/** A message of the request body. */
export interface AnthropicRequestMessage {
  role: "user" | "assistant";
  content: AnthropicRequestBlock[];
}

/** The JSON body of `POST /v1/messages` that {@link toAnthropicRequest} builds. */
export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicRequestMessage[];
  stream: true;
  system?: string;
  tools?: { name: string; description?: string; input_schema: JsonObject }[];
  tool_choice?: { type: "auto" | "any" | "none" } | { type: "tool"; name: string };
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  thinking?: { type: "enabled"; budget_tokens: number };
  metadata?: { user_id: string };
}

/**
 * `max_tokens` when the request sets no `max_output_tokens` and reasoning
 * is off: 4096, which every Claude model accepts (Anthropic requires the
 * field and has no default of its own). The routing configuration may change
 * it per endpoint with `options.defaultMaxTokens`.
 */
export const defaultMaxTokens = 4096;

/**
 * `thinking.budget_tokens` per reasoning effort: LOW 2048, MEDIUM 8192,
 * HIGH 24576. Anthropic's minimum is 1024 and the budget counts against
 * `max_tokens`.
 */
export const thinkingBudgets: Readonly<Record<number, number>> = {
  [ReasoningEffort.LOW]: 2048,
  [ReasoningEffort.MEDIUM]: 8192,
  [ReasoningEffort.HIGH]: 24576,
};

/** Anthropic's smallest `thinking.budget_tokens`. */
const minThinkingBudget = 1024;

/**
 * Maps a validated {@link GenerateRequest} to a streaming Messages API body.
 *
 * - SYSTEM messages → `system` (their text, messages joined by a blank
 *   line; the API has one system prompt, so system messages anywhere in the
 *   conversation are gathered there in order).
 * - USER → `user`, ASSISTANT → `assistant`, TOOL → `user` (Anthropic sends
 *   tool results in user turns). Text parts → `text` blocks (empty ones are
 *   left out: the API refuses empty text blocks); `tool_call` parts →
 *   `tool_use` blocks with `input` = the parsed `arguments_json` (empty → `{}`);
 *   `tool_result` parts → `tool_result` blocks (`is_error` when set).
 *   Consecutive messages of the same API role are merged into one, with its
 *   `tool_result` blocks first (the API requires them before other content);
 *   messages left without content are dropped. `Message.name` has no
 *   equivalent and is not sent.
 * - Tools → `{name, description, input_schema}` (the parameters schema, with
 *   `type: "object"` unless it says otherwise; an empty object schema when
 *   unset). `tool_choice` AUTO → `{type: "auto"}`, REQUIRED → `{type:
 *   "any"}`, NONE → `{type: "none"}`, a tool name → `{type: "tool", name}`;
 *   UNSPECIFIED, or any choice without tools, is left out.
 * - `temperature`, `top_p`, `stop_sequences` as is (Anthropic accepts
 *   temperature 0–1 and refuses temperature with thinking: its 400 message
 *   reaches the caller). `seed` has no equivalent and is ignored.
 *   `metadata["user_id"]` → `metadata.user_id`; other metadata keys are not
 *   sent (the API accepts no others).
 * - `reasoning.effort` LOW/MEDIUM/HIGH → `thinking: {type: "enabled",
 *   budget_tokens}` per {@link thinkingBudgets}; NONE and UNSPECIFIED send
 *   no `thinking` (off, Anthropic's default).
 * - `max_tokens` (required by Anthropic) = `max_output_tokens`, else
 *   `defaultMax` (default {@link defaultMaxTokens}) plus the thinking budget.
 *   With thinking and an explicit `max_output_tokens`, the budget is lowered
 *   to `max_output_tokens - 1` when needed (the API requires budget <
 *   max_tokens).
 * - Always `stream: true`.
 *
 * Raises a ConnectError with Code.InvalidArgument for tool call arguments
 * that are not a JSON object, and for reasoning with `max_output_tokens`
 * of 1024 or less (below Anthropic's minimum thinking budget).
 *
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 */
export function toAnthropicRequest(req: GenerateRequest, model: string, o: { defaultMax?: number } = {}): AnthropicRequest {
  const system = req.messages
    .filter((m) => m.role === Role.SYSTEM)
    .map((m) => textOf(m.parts))
    .filter((t) => t !== "");
  const body: AnthropicRequest = { model, max_tokens: 0, messages: toMessages(req.messages), stream: true };
  if (system.length > 0) body.system = system.join("\n\n");
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: { type: "object", ...(t.parameters ?? { properties: {} }) },
    }));
    const choice = req.toolChoice?.choice;
    if (choice?.case === "toolName") body.tool_choice = { type: "tool", name: choice.value };
    if (choice?.case === "mode") {
      const mode = { [ToolChoiceMode.AUTO]: "auto", [ToolChoiceMode.NONE]: "none", [ToolChoiceMode.REQUIRED]: "any" } as const;
      if (choice.value in mode) body.tool_choice = { type: mode[choice.value as keyof typeof mode] };
    }
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stopSequences.length > 0) body.stop_sequences = [...req.stopSequences];
  const userId = req.metadata["user_id"];
  if (userId) body.metadata = { user_id: userId };
  const budget = req.reasoning?.effort === undefined ? undefined : thinkingBudgets[req.reasoning.effort];
  const defaultMax = o.defaultMax ?? defaultMaxTokens;
  if (budget === undefined) {
    body.max_tokens = req.maxOutputTokens ?? defaultMax;
  } else if (req.maxOutputTokens === undefined) {
    body.max_tokens = defaultMax + budget;
    body.thinking = { type: "enabled", budget_tokens: budget };
  } else {
    if (req.maxOutputTokens <= minThinkingBudget) {
      throw new ConnectError(
        `max_output_tokens: must be above ${minThinkingBudget} with reasoning on anthropic (its smallest thinking budget)`,
        Code.InvalidArgument,
      );
    }
    body.max_tokens = req.maxOutputTokens;
    body.thinking = { type: "enabled", budget_tokens: Math.min(budget, req.maxOutputTokens - 1) };
  }
  return body;
}

function toMessages(messages: readonly Message[]): AnthropicRequestMessage[] {
  const out: AnthropicRequestMessage[] = [];
  messages.forEach((m, i) => {
    if (m.role === Role.SYSTEM) return;
    if (m.role !== Role.USER && m.role !== Role.ASSISTANT && m.role !== Role.TOOL) {
      throw new ConnectError(`messages[${i}]: role is required`, Code.InvalidArgument);
    }
    const role = m.role === Role.ASSISTANT ? "assistant" : "user";
    const content = m.parts.flatMap((p, j) => toBlocks(p, `messages[${i}].parts[${j}]`));
    if (content.length === 0) return;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...content);
    else out.push({ role, content });
  });
  for (const m of out) {
    if (m.role === "user") {
      m.content = [...m.content.filter((b) => b.type === "tool_result"), ...m.content.filter((b) => b.type !== "tool_result")];
    }
  }
  return out;
}

function toBlocks(p: Part, where: string): AnthropicRequestBlock[] {
  switch (p.part.case) {
    case "text":
      return p.part.value === "" ? [] : [{ type: "text", text: p.part.value }];
    case "toolCall": {
      const c = p.part.value;
      let input: unknown;
      try {
        input = JSON.parse(c.argumentsJson.trim() === "" ? "{}" : c.argumentsJson);
      } catch {
        input = undefined;
      }
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new ConnectError(`${where}.tool_call.arguments_json: must be a JSON object for anthropic`, Code.InvalidArgument);
      }
      return [{ type: "tool_use", id: c.callId, name: c.name, input: input as JsonObject }];
    }
    case "toolResult": {
      const r = p.part.value;
      return [{ type: "tool_result", tool_use_id: r.callId, content: r.result, ...(r.isError ? { is_error: true as const } : {}) }];
    }
    default:
      return [];
  }
}

function textOf(parts: readonly Part[]): string {
  return parts.flatMap((p) => (p.part.case === "text" && p.part.value !== "" ? [p.part.value] : [])).join("\n");
}
