import { type GenerateRequest, type Message, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** A message of an `/api/chat` request body. */
export type OllamaChatRequestMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; tool_calls?: { function: { name: string; arguments: Record<string, unknown> } }[] }
  | { role: "tool"; content: string; tool_name?: string };

/** Sampling options (`options` of both request bodies). */
export interface OllamaRequestOptions {
  temperature?: number;
  top_p?: number;
  num_predict?: number;
  stop?: string[];
  seed?: number;
}

/** The JSON body of `POST /api/chat` that {@link toOllamaChatRequest} builds. */
export interface OllamaChatRequest {
  model: string;
  messages: OllamaChatRequestMessage[];
  stream: true;
  tools?: { type: "function"; function: { name: string; description?: string; parameters: object } }[];
  think?: boolean;
  options?: OllamaRequestOptions;
}

/** The JSON body of `POST /api/generate` that {@link toOllamaGenerateRequest} builds. */
export interface OllamaGenerateRequest {
  model: string;
  prompt: string;
  system?: string;
  stream: true;
  think?: boolean;
  options?: OllamaRequestOptions;
}

/**
 * Maps a validated {@link GenerateRequest} to the body of Ollama's
 * `POST /api/chat`.
 *
 * - Messages keep their order. SYSTEM/USER → `system`/`user` with the text
 *   parts joined by `"\n"`; ASSISTANT → `assistant` with its text (`""`
 *   when none) and its `tool_call` parts as `tool_calls`
 *   `[{function: {name, arguments}}]`, arguments as a JSON object (Ollama
 *   takes an object, not text; empty → `{}`); each `tool_result` part of a
 *   TOOL message → its own `tool` message with the result as `content` and
 *   `tool_name` (the name of the earlier call with that id, when known;
 *   Ollama has no call ids and no error flag). `Message.name` is not sent.
 * - Tools → `{type: "function", function: {name, description, parameters}}`;
 *   tool choice NONE → no tools sent; Ollama cannot force a call, so
 *   REQUIRED and a named tool send the tools and let the model decide.
 * - `reasoning.effort` LOW/MEDIUM/HIGH → `think: true`, NONE → `think:
 *   false`, unset → left out (the model's default).
 * - `options` (see {@link toOllamaOptions}); always `stream: true`.
 * - Metadata is not sent.
 *
 * Raises a ConnectError with Code.InvalidArgument for tool-call arguments
 * that are not a JSON object, or a seed beyond ±2^53.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */
export function toOllamaChatRequest(req: GenerateRequest, model: string): OllamaChatRequest {
  const names = new Map<string, string>();
  const body: OllamaChatRequest = { model, messages: req.messages.flatMap((m, i) => toMessages(m, i, names)), stream: true };
  const none = req.toolChoice?.choice.case === "mode" && req.toolChoice.choice.value === ToolChoiceMode.NONE;
  if (req.tools.length > 0 && !none) {
    body.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.parameters ?? { type: "object", properties: {} },
      },
    }));
  }
  return withCommon(body, req);
}

/**
 * Maps a validated {@link GenerateRequest} to the body of Ollama's
 * `POST /api/generate` (endpoint option `api: "generate"`), a single-turn
 * API: the text of the SYSTEM messages → `system`, the text of the USER
 * messages → `prompt` (each message's text parts joined by `"\n"`,
 * messages by `"\n\n"`); Ollama applies the model's template to them.
 * `reasoning` and `options` as for `/api/chat`; always `stream: true`.
 *
 * Raises a ConnectError with Code.InvalidArgument when the request has
 * tools, ASSISTANT or TOOL messages, or no USER message (use `api: "chat"`
 * for conversations and tools), or a seed beyond ±2^53.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-completion
 */
export function toOllamaGenerateRequest(req: GenerateRequest, model: string): OllamaGenerateRequest {
  const refuse = (what: string) => {
    throw new ConnectError(
      `${what}: Ollama's /api/generate takes one prompt; configure the endpoint with api "chat"`,
      Code.InvalidArgument,
    );
  };
  if (req.tools.length > 0) refuse("tools");
  req.messages.forEach((m, i) => {
    if (m.role !== Role.SYSTEM && m.role !== Role.USER) refuse(`messages[${i}]`);
  });
  const textOf = (role: Role) =>
    req.messages
      .filter((m) => m.role === role)
      .map(text)
      .join("\n\n");
  if (!req.messages.some((m) => m.role === Role.USER)) refuse("messages");
  const system = textOf(Role.SYSTEM);
  const body: OllamaGenerateRequest = { model, prompt: textOf(Role.USER), ...(system ? { system } : {}), stream: true };
  return withCommon(body, req);
}

/**
 * The sampling `options` of both APIs: `temperature`, `top_p`,
 * `max_output_tokens` → `num_predict`, `stop_sequences` → `stop`, `seed`.
 * Returns undefined when none is set.
 *
 * Raises a ConnectError with Code.InvalidArgument for a seed beyond ±2^53.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/modelfile.md#valid-parameters-and-values
 */
export function toOllamaOptions(req: GenerateRequest): OllamaRequestOptions | undefined {
  const o: OllamaRequestOptions = {};
  if (req.temperature !== undefined) o.temperature = req.temperature;
  if (req.topP !== undefined) o.top_p = req.topP;
  if (req.maxOutputTokens !== undefined) o.num_predict = req.maxOutputTokens;
  if (req.stopSequences.length > 0) o.stop = [...req.stopSequences];
  if (req.seed !== undefined) {
    if (req.seed > BigInt(Number.MAX_SAFE_INTEGER) || req.seed < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ConnectError("seed: must be within ±2^53 for ollama", Code.InvalidArgument);
    }
    o.seed = Number(req.seed);
  }
  return Object.keys(o).length > 0 ? o : undefined;
}

function withCommon<B extends { think?: boolean; options?: OllamaRequestOptions }>(body: B, req: GenerateRequest): B {
  const effort = req.reasoning?.effort;
  if (effort === ReasoningEffort.LOW || effort === ReasoningEffort.MEDIUM || effort === ReasoningEffort.HIGH) body.think = true;
  if (effort === ReasoningEffort.NONE) body.think = false;
  const options = toOllamaOptions(req);
  if (options) body.options = options;
  return body;
}

function text(m: Message): string {
  return m.parts.flatMap((p) => (p.part.case === "text" ? [p.part.value] : [])).join("\n");
}

function toMessages(m: Message, i: number, names: Map<string, string>): OllamaChatRequestMessage[] {
  switch (m.role) {
    case Role.SYSTEM:
      return [{ role: "system", content: text(m) }];
    case Role.USER:
      return [{ role: "user", content: text(m) }];
    case Role.ASSISTANT: {
      const calls = m.parts.flatMap((p, j) => {
        if (p.part.case !== "toolCall") return [];
        const c = p.part.value;
        names.set(c.callId, c.name);
        return [
          {
            function: { name: c.name, arguments: argumentsObject(c.argumentsJson, `messages[${i}].parts[${j}].tool_call.arguments_json`) },
          },
        ];
      });
      return [{ role: "assistant", content: text(m), ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
    }
    case Role.TOOL:
      return m.parts.flatMap((p) => {
        if (p.part.case !== "toolResult") return [];
        const name = names.get(p.part.value.callId);
        return [{ role: "tool" as const, content: p.part.value.result, ...(name ? { tool_name: name } : {}) }];
      });
    default:
      throw new ConnectError(`messages[${i}].role: is required`, Code.InvalidArgument);
  }
}

function argumentsObject(json: string, field: string): Record<string, unknown> {
  if (json.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    v = undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ConnectError(`${field}: must be a JSON object for ollama`, Code.InvalidArgument);
  }
  return v as Record<string, unknown>;
}
