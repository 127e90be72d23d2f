import {
  ev,
  FinishReason,
  type GenerateRequest,
  ReasoningEffort,
  Role,
  type StreamEvent,
  type Tool,
  ToolChoiceMode,
  type UsageInit,
} from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { buildToolArguments } from "./build-tool-arguments.js";
import { answerStyle, composeTokens, countTokens, promptKeywords, reasoningStyle } from "./compose-text.js";
import { fnv1a32, mulberry32, type Rng } from "./prng.js";
import { parseSimulatorMetadata } from "./simulator-metadata.js";

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The model name reported in `started`. */
  readonly model: string;
  /** The PRNG seed; default {@link simulationSeed}(request). */
  readonly seed?: number;
}

/** Tokens of reasoning per effort: [min, max], chosen by seed. */
const reasoningTokens: Readonly<Partial<Record<ReasoningEffort, readonly [number, number]>>> = {
  [ReasoningEffort.LOW]: [16, 24],
  [ReasoningEffort.MEDIUM]: [48, 72],
  [ReasoningEffort.HIGH]: [120, 180],
};

/**
 * The whole event stream the simulator produces for a request, unpaced: a
 * pure function of (request, seed) — no clock, no I/O, no global randomness.
 *
 * - `started` (model, provider `"simulator"`, request id `sim-<seed hex>`);
 * - `reasoning_delta` tokens first when `reasoning.effort` is LOW (about
 *   16–24, whole sentences), MEDIUM (48–72) or HIGH (120–180);
 * - then either one tool call — when tools are offered, `tool_choice` is not
 *   NONE, and the prompt asks for one (it mentions a tool's name, or "call"/
 *   "use"/"invoke"/"run" together with "tool"/"function"), or `tool_choice`
 *   is REQUIRED or names a tool — as `tool_call_started`, `tool_call_delta`
 *   fragments of a JSON arguments object built from the tool's schema and the
 *   prompt, `tool_call_completed`, finish TOOL_CALLS; after a tool result
 *   (last message is ROLE_TOOL) only a forced choice calls again;
 * - or answer text: `text_delta` tokens (a word with its leading space)
 *   composed from the last user message's keywords (and a tool result's),
 *   exactly `metadata["simulator.output_tokens"]` long, or by default whole
 *   sentences up to about 45–75 tokens (by seed), one token per event or
 *   `metadata["simulator.delta_tokens"]` per event,
 *   cut before the first stop sequence (finish STOP);
 * - `max_output_tokens` caps reasoning plus output tokens (finish LENGTH; a
 *   tool call cut by it is never completed);
 * - `usage` (input ≈ prompt tokens counted by `countTokens`, output = token
 *   events emitted, reasoning) and the terminal `completed` with the same usage;
 * - with `metadata["simulator.fail_after_tokens"]` = N, a stream that would
 *   emit more than N token events instead ends after N of them with `failed`
 *   (code from `simulator.fail_code`, default Unavailable; reason
 *   SIMULATED_FAILURE; usage so far).
 *
 * Raises a ConnectError with Code.InvalidArgument for malformed `simulator.*` metadata.
 */
export function simulate(req: GenerateRequest, o: SimulateOptions): StreamEvent[] {
  const meta = parseSimulatorMetadata(req.metadata);
  const seed = o.seed ?? simulationSeed(req);
  const rng = mulberry32(seed);
  const prompt = lastText(req, Role.USER);
  const afterTool = req.messages.at(-1)?.role === Role.TOOL;
  const keywords = promptKeywords(afterTool ? `${toolResultsText(req)} ${prompt}` : prompt);
  let budget = req.maxOutputTokens ?? Number.POSITIVE_INFINITY;

  const body: StreamEvent[] = [];
  let finish = FinishReason.STOP as FinishReason; // widened: `cut` may change it
  let raw = "stop";
  const cut = (n: number) => {
    finish = FinishReason.LENGTH;
    raw = "length";
    return n;
  };

  const range = req.reasoning ? reasoningTokens[req.reasoning.effort] : undefined;
  let reasoningCount = 0;
  if (range) {
    const thoughts = composeTokens(rng, keywords, rng.int(range[0], range[1]), reasoningStyle, "sentences");
    const n = thoughts.length > budget ? cut(budget) : thoughts.length;
    for (const t of thoughts.slice(0, n)) body.push(ev.reasoningDelta(t));
    reasoningCount = n;
    budget -= n;
  }

  let textTokens = 0;
  const tool = finish === FinishReason.LENGTH ? undefined : chooseTool(req, prompt, afterTool, rng);
  if (tool) {
    const callId = `call_${randomId(rng, 24)}`;
    const args = JSON.stringify(buildToolArguments(tool.parameters, prompt, rng));
    const fragments = splitFragments(args, rng);
    const n = fragments.length > budget ? cut(budget) : fragments.length;
    body.push(ev.toolCallStarted(callId, tool.name, 0));
    for (const f of fragments.slice(0, n)) body.push(ev.toolCallDelta(callId, f));
    if (finish !== FinishReason.LENGTH) {
      body.push(ev.toolCallCompleted(callId, tool.name, args));
      finish = FinishReason.TOOL_CALLS;
      raw = "tool_calls";
    }
  } else if (finish !== FinishReason.LENGTH) {
    const composed =
      meta.outputTokens !== undefined
        ? composeTokens(rng, keywords, meta.outputTokens, answerStyle, "exact")
        : composeTokens(rng, keywords, rng.int(45, 75), answerStyle, "sentences");
    let tokens = cutAtStopSequence(composed, req.stopSequences);
    if (tokens.length > budget) tokens = tokens.slice(0, cut(budget));
    const k = meta.deltaTokens ?? 1;
    for (let i = 0; i < tokens.length; i += k) body.push(ev.textDelta(k === 1 ? tokens[i]! : tokens.slice(i, i + k).join("")));
    textTokens = tokens.length;
  }

  const inputTokens = countPromptTokens(req);
  const usageAfter = (outputTokens: number, reasoning: number): UsageInit => ({
    inputTokens,
    outputTokens,
    ...(range ? { reasoningTokens: reasoning } : {}),
  });
  const started = ev.started(o.model, "simulator", `sim-${seed.toString(16).padStart(8, "0")}`);

  const failAt = meta.failAfterTokens;
  if (failAt !== undefined && body.filter(isToken).length > failAt) {
    const kept: StreamEvent[] = [];
    let tokens = 0;
    for (const e of body) {
      if (isToken(e) && tokens === failAt) break;
      if (isToken(e)) tokens++;
      kept.push(e);
    }
    const code = meta.failCode ?? Code.Unavailable;
    const failed = ev.failed(code, `simulated failure after ${failAt} tokens`, "SIMULATED_FAILURE", {
      usage: usageAfter(failAt, Math.min(failAt, reasoningCount)),
    });
    return [started, ...kept, failed];
  }

  const deltaEvents = body.filter((e) => e.event.case === "textDelta").length;
  const usage = usageAfter(body.filter(isToken).length - deltaEvents + textTokens, reasoningCount);
  return [started, ...body, ev.usage(usage), ev.completed(finish, usage, raw)];
}

/**
 * The default seed of a request: `request.seed` folded to 32 bits when set,
 * otherwise a hash of the model and the conversation (roles and contents), so
 * a repeated prompt gets the same answer and a different prompt another one.
 */
export function simulationSeed(req: GenerateRequest): number {
  if (req.seed !== undefined) {
    return Number(BigInt.asUintN(32, req.seed) ^ BigInt.asUintN(32, req.seed >> 32n));
  }
  let h = fnv1a32(req.model);
  for (const m of req.messages) {
    h = fnv1a32(`\u0000${m.role}\u0000`, h);
    for (const p of m.parts) h = fnv1a32(partText(p.part), h);
  }
  return h;
}

/** True for the events that count as output tokens (and are paced). */
export function isToken(e: StreamEvent): boolean {
  const k = e.event.case;
  return k === "textDelta" || k === "reasoningDelta" || k === "toolCallDelta";
}

function chooseTool(req: GenerateRequest, prompt: string, afterTool: boolean, rng: Rng): Tool | undefined {
  const choice = req.toolChoice?.choice;
  if (req.tools.length === 0) return undefined;
  if (choice?.case === "toolName") return req.tools.find((t) => t.name === choice.value);
  if (choice?.case === "mode" && choice.value === ToolChoiceMode.NONE) return undefined;
  const required = choice?.case === "mode" && choice.value === ToolChoiceMode.REQUIRED;
  if (afterTool && !required) return undefined;
  const lower = prompt.toLowerCase();
  const mentioned = req.tools.find(
    (t) => lower.includes(t.name.toLowerCase()) || lower.includes(t.name.toLowerCase().replace(/[_-]+/g, " ")),
  );
  if (mentioned) return mentioned;
  const asked = /\b(call|use|invoke|run)\b/.test(lower) && /\b(tools?|functions?)\b/.test(lower);
  return required || asked ? rng.pick(req.tools) : undefined;
}

/** Splits text into fragments of 2 to 8 code points (never inside a surrogate pair). @private */
export function splitFragments(text: string, rng: Rng): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    const n = rng.int(2, 8);
    out.push(chars.slice(i, i + n).join(""));
    i += n;
  }
  return out;
}

/** Cuts tokens so their text ends right before the earliest stop sequence. */
function cutAtStopSequence(tokens: string[], stops: readonly string[]): string[] {
  const text = tokens.join("");
  const at = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
  if (!Number.isFinite(at)) return tokens;
  const out: string[] = [];
  let pos = 0;
  for (const t of tokens) {
    if (pos + t.length > at) {
      if (at > pos) out.push(t.slice(0, at - pos));
      break;
    }
    out.push(t);
    pos += t.length;
  }
  return out;
}

/** The prompt's size in simulator tokens (messages with their framing, and tools). @private */
export function countPromptTokens(req: GenerateRequest): number {
  let n = 0;
  for (const m of req.messages) {
    n += 3; // role and message framing, as chat templates add
    for (const p of m.parts) n += countTokens(partText(p.part));
  }
  for (const t of req.tools) n += countTokens(`${t.name} ${t.description} ${JSON.stringify(t.parameters ?? {})}`);
  return n;
}

/** The text of the last message of `role` (its text parts joined by spaces); "" when none. @private */
export function lastText(req: GenerateRequest, role: Role): string {
  const m = req.messages.findLast((x) => x.role === role);
  return m ? m.parts.map((p) => (p.part.case === "text" ? p.part.value : "")).join(" ") : "";
}

function toolResultsText(req: GenerateRequest): string {
  const m = req.messages.at(-1);
  return m ? m.parts.map((p) => (p.part.case === "toolResult" ? p.part.value.result : "")).join(" ") : "";
}

function partText(p: GenerateRequest["messages"][number]["parts"][number]["part"]): string {
  switch (p.case) {
    case "text":
      return p.value;
    case "toolCall":
      return `${p.value.name} ${p.value.argumentsJson}`;
    case "toolResult":
      return p.value.result;
    default:
      return "";
  }
}

/** `length` seeded alphanumeric characters. @private */
export function randomId(rng: Rng, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < length; i++) s += alphabet.charAt(rng.int(0, alphabet.length - 1));
  return s;
}
