import {
  type GenerateRequest,
  type Message,
  type Part,
  ReasoningEffort,
  Role,
  type Tool,
  ToolChoiceMode,
  utf8Length,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** Bounds enforced by {@link validateGenerateRequest}. Lengths are in UTF-16 code units unless a name says bytes. */
export const generateRequestLimits = {
  /** Longest `model` string. */
  modelChars: 256,
  /** Most messages. */
  messages: 10_000,
  /** Most parts in one message. */
  partsPerMessage: 1_000,
  /** Most tools. */
  tools: 128,
  /** Longest tool description. */
  toolDescriptionChars: 8_192,
  /** Longest call id of a tool call or tool result part. */
  callIdChars: 256,
  /** Most stop sequences. */
  stopSequences: 4,
  /** Longest stop sequence. */
  stopSequenceChars: 256,
  /** Most metadata entries. */
  metadataEntries: 16,
  /** Longest metadata key. */
  metadataKeyChars: 64,
  /** Longest metadata value. */
  metadataValueChars: 512,
  /** Bound on all text of the request (message text, tool arguments and results, tool definitions), in UTF-8 bytes: 1 MiB. */
  totalTextBytes: 1024 * 1024,
} as const;

/** Tool names the contract allows: `[A-Za-z0-9_-]{1,64}`. */
export const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks a {@link GenerateRequest} against the contract, so a bad request is
 * refused before any stream or upstream call is created. Provider-neutral:
 * the gateway runs it before `CreateStream` starts a generation, the
 * inference service again before `Generate` calls a provider.
 *
 * Checks: `model` is set (no whitespace, ≤ 256 chars); at least one message;
 * each message has a role other than UNSPECIFIED and at least one part with
 * its oneof set; `tool_call` parts only in assistant messages (call id, tool
 * name, arguments that parse as JSON), `tool_result` parts only in tool
 * messages, and tool messages hold nothing else; tool names match
 * `[A-Za-z0-9_-]{1,64}` and are unique, `parameters` is an object schema;
 * `tool_choice` has a known mode or names an offered tool (REQUIRED and a
 * named tool need tools); temperature 0..2; top_p 0..1; max_output_tokens ≥ 1;
 * at most 4 non-empty stop sequences; metadata at most 16 entries, keys 1..64
 * and values ≤ 512 chars; all text together at most 1 MiB of UTF-8 (see
 * {@link generateRequestLimits}).
 *
 * Raises a ConnectError with Code.InvalidArgument whose message starts with
 * the offending field path in proto names, e.g.
 * `messages[0].parts: at least one part is required`.
 */
export function validateGenerateRequest(req: GenerateRequest): void {
  const L = generateRequestLimits;
  if (req.model === "") fail("model", "is required");
  if (req.model.length > L.modelChars) fail("model", `must be at most ${L.modelChars} characters`);
  if (/[\s\p{Cc}]/u.test(req.model)) fail("model", "must not contain whitespace or control characters");

  if (req.messages.length === 0) fail("messages", "at least one message is required");
  if (req.messages.length > L.messages) fail("messages", `at most ${L.messages} messages are allowed`);
  let bytes = 0;
  req.messages.forEach((m, i) => {
    bytes += checkMessage(m, `messages[${i}]`);
  });

  if (req.tools.length > L.tools) fail("tools", `at most ${L.tools} tools are allowed`);
  const toolNames = new Set<string>();
  req.tools.forEach((t, i) => {
    bytes += checkTool(t, `tools[${i}]`, toolNames);
  });
  checkToolChoice(req, toolNames);

  if (req.temperature !== undefined && !(req.temperature >= 0 && req.temperature <= 2)) {
    fail("temperature", "must be between 0 and 2");
  }
  if (req.topP !== undefined && !(req.topP >= 0 && req.topP <= 1)) fail("top_p", "must be between 0 and 1");
  if (req.maxOutputTokens !== undefined && req.maxOutputTokens < 1) fail("max_output_tokens", "must be at least 1");

  if (req.stopSequences.length > L.stopSequences) {
    fail("stop_sequences", `at most ${L.stopSequences} stop sequences are allowed`);
  }
  req.stopSequences.forEach((s, i) => {
    if (s === "") fail(`stop_sequences[${i}]`, "must not be empty");
    if (s.length > L.stopSequenceChars) fail(`stop_sequences[${i}]`, `must be at most ${L.stopSequenceChars} characters`);
  });

  const entries = Object.entries(req.metadata);
  if (entries.length > L.metadataEntries) fail("metadata", `at most ${L.metadataEntries} entries are allowed`);
  for (const [k, v] of entries) {
    const path = `metadata[${JSON.stringify(k.slice(0, L.metadataKeyChars))}]`;
    if (k === "" || k.length > L.metadataKeyChars) fail(path, `keys must have 1 to ${L.metadataKeyChars} characters`);
    if (v.length > L.metadataValueChars) fail(path, `values must be at most ${L.metadataValueChars} characters`);
  }

  if (req.reasoning && !(req.reasoning.effort in ReasoningEffort)) fail("reasoning.effort", "unknown value");

  if (bytes > L.totalTextBytes) {
    fail("messages", `the request's text is ${bytes} bytes; at most ${L.totalTextBytes} bytes (1 MiB) are allowed`);
  }
}

/** Validates one message; returns its text size in UTF-8 bytes. */
function checkMessage(m: Message, path: string): number {
  if (m.role === Role.UNSPECIFIED) fail(`${path}.role`, "is required");
  if (!(m.role in Role)) fail(`${path}.role`, "unknown value");
  if (m.parts.length === 0) fail(`${path}.parts`, "at least one part is required");
  if (m.parts.length > generateRequestLimits.partsPerMessage) {
    fail(`${path}.parts`, `at most ${generateRequestLimits.partsPerMessage} parts are allowed`);
  }
  let bytes = utf8Length(m.name);
  m.parts.forEach((p, j) => {
    bytes += checkPart(p, m.role, `${path}.parts[${j}]`);
  });
  return bytes;
}

function checkPart(p: Part, role: Role, path: string): number {
  switch (p.part.case) {
    case "text":
      if (role === Role.TOOL) fail(path, "tool messages hold only tool_result parts");
      return utf8Length(p.part.value);
    case "toolCall": {
      const c = p.part.value;
      if (role !== Role.ASSISTANT) fail(`${path}.tool_call`, "is only allowed in assistant messages");
      checkCallId(c.callId, `${path}.tool_call.call_id`);
      if (!toolNamePattern.test(c.name)) fail(`${path}.tool_call.name`, "must match [A-Za-z0-9_-]{1,64}");
      if (c.argumentsJson.trim() !== "" && !parsesAsJson(c.argumentsJson)) {
        fail(`${path}.tool_call.arguments_json`, "must be valid JSON");
      }
      return utf8Length(c.callId) + utf8Length(c.name) + utf8Length(c.argumentsJson);
    }
    case "toolResult": {
      const r = p.part.value;
      if (role !== Role.TOOL) fail(`${path}.tool_result`, "is only allowed in tool messages");
      checkCallId(r.callId, `${path}.tool_result.call_id`);
      return utf8Length(r.callId) + utf8Length(r.result);
    }
    case undefined:
      return fail(path, "one of text, tool_call or tool_result must be set");
  }
}

function checkCallId(id: string, path: string): void {
  if (id === "") fail(path, "is required");
  if (id.length > generateRequestLimits.callIdChars) {
    fail(path, `must be at most ${generateRequestLimits.callIdChars} characters`);
  }
}

function checkTool(t: Tool, path: string, names: Set<string>): number {
  if (!toolNamePattern.test(t.name)) fail(`${path}.name`, "must match [A-Za-z0-9_-]{1,64}");
  if (names.has(t.name)) fail(`${path}.name`, `duplicate tool name "${t.name}"`);
  names.add(t.name);
  if (t.description.length > generateRequestLimits.toolDescriptionChars) {
    fail(`${path}.description`, `must be at most ${generateRequestLimits.toolDescriptionChars} characters`);
  }
  const type = t.parameters?.["type"];
  if (type !== undefined && type !== "object") fail(`${path}.parameters`, 'must be an object schema ("type": "object")');
  return utf8Length(t.name) + utf8Length(t.description) + (t.parameters ? utf8Length(JSON.stringify(t.parameters)) : 0);
}

function checkToolChoice(req: GenerateRequest, toolNames: ReadonlySet<string>): void {
  const c = req.toolChoice?.choice;
  if (c === undefined) return;
  switch (c.case) {
    case "mode":
      if (!(c.value in ToolChoiceMode)) fail("tool_choice.mode", "unknown value");
      if (c.value === ToolChoiceMode.REQUIRED && toolNames.size === 0) {
        fail("tool_choice.mode", "REQUIRED needs at least one tool in tools");
      }
      return;
    case "toolName":
      if (!toolNames.has(c.value)) fail("tool_choice.tool_name", `"${c.value.slice(0, 64)}" is not one of tools`);
      return;
    case undefined:
      fail("tool_choice", "one of mode or tool_name must be set");
  }
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function fail(path: string, what: string): never {
  throw new ConnectError(`${path}: ${what}`, Code.InvalidArgument);
}
