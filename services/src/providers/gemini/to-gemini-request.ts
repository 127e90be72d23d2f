import { type GenerateRequest, type Message, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** A part of a request `Content`. */
export type GeminiRequestPart =
  | { text: string }
  | { functionCall: { name: string; args: JsonValue; id?: string }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: JsonObject; id?: string } };

/** A request `Content`. */
export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiRequestPart[];
}

/** The JSON body of `models/{model}:streamGenerateContent` that {@link toGeminiRequest} builds. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: { name: string; description?: string; parametersJsonSchema?: JsonObject }[] }[];
  toolConfig?: { functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] } };
  generationConfig?: {
    temperature?: number;
    topP?: number;
    maxOutputTokens?: number;
    stopSequences?: string[];
    seed?: number;
    thinkingConfig?: { includeThoughts: boolean };
  };
}

/** Options of {@link toGeminiRequest}. */
export interface ToGeminiRequestOptions {
  /**
   * Send `functionCall.id` / `functionResponse.id`. The Gemini API accepts
   * them; Vertex AI does not document them everywhere, so the Vertex mode
   * leaves them out (calls are then matched by name and order).
   */
  readonly callIds: boolean;
}

/**
 * The documented placeholder `thoughtSignature` for function calls replayed
 * without their original signature: airwave.v1 requests have no field to
 * carry signatures back, and Gemini 3 models refuse a history whose function
 * calls lack one (400 "missing a thought_signature").
 *
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures#faqs
 */
export const skipThoughtSignature = "skip_thought_signature_validator";

/**
 * Maps a validated {@link GenerateRequest} to a `streamGenerateContent` body.
 *
 * - SYSTEM messages → `systemInstruction.parts` (their text, in order);
 *   USER → `role: "user"` text parts; ASSISTANT → `role: "model"` with text
 *   parts and `functionCall` parts (`args` = the parsed arguments, `{}` when
 *   empty; the first call of each message carries {@link skipThoughtSignature});
 *   each `tool_result` of a TOOL message → a `functionResponse` part in a
 *   `user` content, named after the call it answers (found by call id among
 *   earlier assistant tool calls), `response` = the result when it is a JSON
 *   object, else `{"output": result}` (`{"error": result}` when `is_error`),
 *   the result being parsed JSON where it parses, else the text. Adjacent
 *   contents of the same role are merged. `Message.name` has no Gemini field.
 * - Tools → one `{functionDeclarations}` with `name`, `description` and
 *   `parametersJsonSchema` (JSON Schema as is); tool_choice AUTO, NONE,
 *   REQUIRED → `functionCallingConfig.mode` `AUTO`, `NONE`, `ANY`; a tool
 *   name → `ANY` with `allowedFunctionNames: [name]`; left out without tools.
 * - `generationConfig`: `temperature`, `topP`, `maxOutputTokens`,
 *   `stopSequences`, `seed`; `reasoning.effort` LOW/MEDIUM/HIGH →
 *   `thinkingConfig.includeThoughts: true` (thought summaries streamed as
 *   reasoning; the thinking budget stays the model's default); NONE and
 *   UNSPECIFIED send nothing (not every model can turn thinking off).
 * - Metadata is not sent.
 *
 * Raises a ConnectError with Code.InvalidArgument for a seed outside the
 * int32 range Gemini accepts, a tool result whose call id no earlier
 * assistant message made, or tool-call arguments that are not JSON.
 *
 * @see https://ai.google.dev/api/generate-content#request-body
 * @see https://ai.google.dev/api/caching#Content
 * @see https://ai.google.dev/gemini-api/docs/function-calling
 */
export function toGeminiRequest(req: GenerateRequest, o: ToGeminiRequestOptions): GeminiRequest {
  const body: GeminiRequest = { contents: [] };
  const names = new Map<string, string>();
  const system: { text: string }[] = [];
  for (const m of req.messages) {
    if (m.role === Role.SYSTEM) {
      for (const p of m.parts) if (p.part.case === "text") system.push({ text: p.part.value });
      continue;
    }
    const content = toContent(m, names, o);
    const last = body.contents.at(-1);
    if (last && last.role === content.role) last.parts.push(...content.parts);
    else body.contents.push(content);
  }
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          ...(t.parameters ? { parametersJsonSchema: t.parameters } : {}),
        })),
      },
    ];
    const choice = req.toolChoice?.choice;
    if (choice?.case === "toolName") body.toolConfig = { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.value] } };
    if (choice?.case === "mode") {
      const mode = { [ToolChoiceMode.AUTO]: "AUTO", [ToolChoiceMode.NONE]: "NONE", [ToolChoiceMode.REQUIRED]: "ANY" } as const;
      if (choice.value in mode) body.toolConfig = { functionCallingConfig: { mode: mode[choice.value as keyof typeof mode] } };
    }
  }
  const g: NonNullable<GeminiRequest["generationConfig"]> = {};
  if (req.temperature !== undefined) g.temperature = req.temperature;
  if (req.topP !== undefined) g.topP = req.topP;
  if (req.maxOutputTokens !== undefined) g.maxOutputTokens = req.maxOutputTokens;
  if (req.stopSequences.length > 0) g.stopSequences = [...req.stopSequences];
  if (req.seed !== undefined) {
    if (req.seed > 2147483647n || req.seed < -2147483648n) {
      throw new ConnectError("seed: must be a 32-bit integer for gemini", Code.InvalidArgument);
    }
    g.seed = Number(req.seed);
  }
  const e = req.reasoning?.effort;
  if (e === ReasoningEffort.LOW || e === ReasoningEffort.MEDIUM || e === ReasoningEffort.HIGH) g.thinkingConfig = { includeThoughts: true };
  if (Object.keys(g).length > 0) body.generationConfig = g;
  return body;
}

function toContent(m: Message, names: Map<string, string>, o: ToGeminiRequestOptions): GeminiContent {
  switch (m.role) {
    case Role.USER:
      return { role: "user", parts: m.parts.flatMap((p) => (p.part.case === "text" ? [{ text: p.part.value }] : [])) };
    case Role.ASSISTANT: {
      let signed = false;
      const parts = m.parts.flatMap((p): GeminiRequestPart[] => {
        if (p.part.case === "text") return [{ text: p.part.value }];
        if (p.part.case !== "toolCall") return [];
        const c = p.part.value;
        names.set(c.callId, c.name);
        const part: GeminiRequestPart = {
          functionCall: { name: c.name, args: parseArgs(c.argumentsJson, c.name), ...(o.callIds && c.callId ? { id: c.callId } : {}) },
        };
        if (!signed) part.thoughtSignature = skipThoughtSignature;
        signed = true;
        return [part];
      });
      return { role: "model", parts };
    }
    case Role.TOOL:
      return {
        role: "user",
        parts: m.parts.flatMap((p): GeminiRequestPart[] => {
          if (p.part.case !== "toolResult") return [];
          const r = p.part.value;
          const name = names.get(r.callId);
          if (name === undefined) {
            throw new ConnectError(`messages: tool result for call "${r.callId}" that no assistant message made`, Code.InvalidArgument);
          }
          const value = parseOrText(r.result);
          const response: JsonObject = r.isError
            ? { error: value }
            : typeof value === "object" && value !== null && !Array.isArray(value)
              ? value
              : { output: value };
          return [{ functionResponse: { name, response, ...(o.callIds && r.callId ? { id: r.callId } : {}) } }];
        }),
      };
    default:
      throw new ConnectError("messages: role is required", Code.InvalidArgument);
  }
}

function parseArgs(text: string, name: string): JsonValue {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new ConnectError(`messages: arguments of tool call "${name}" are not JSON`, Code.InvalidArgument);
  }
}

function parseOrText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
