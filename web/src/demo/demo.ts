/**
 * The demo page: a prompt, a transport, and the answer streaming in —
 * rendered from the message model (`reduceMessage`) once per animation
 * frame (`createFrameBatcher`), with one lane per agent.
 *
 * Test contract (stable):
 * - Controls: `#prompt`, `#preset` (markdown, the default: a Markdown answer
 *   from the simulator (`simulator.format`) | answer: plain prose | echo:
 *   the answer is the prompt, verbatim (`simulator.echo`) | agent-confirm |
 *   agent-choice | agent-text: sets `#model` and what the agents ask; the
 *   preset's `simulator.*` metadata is sent only with its model), `#model` (default
 *   `simulator/default`; `simulator/agent` runs the planner, researcher and
 *   writer agents), `#transport` (auto | connect | grpc-web | sse |
 *   sse-fetch | ndjson | websocket | long-poll; `?transport=` preselects;
 *   auto is WebSocket falling back to SSE, then long-poll), `#reasoning`,
 *   `#send`, `#stop`.
 * - `#output`: the answer so far rendered as Markdown (`div.text.markdown`
 *   per text block: sanitised HTML, `div.md-code[data-language]` code blocks
 *   with `code.hljs` once highlighted and `button.md-copy`) — the main
 *   agent's text, or in an agent run (no main-agent text) the text of the
 *   agent that joined last (the writer). `window.airwaveDemo.answerText()`
 *   is exactly the answer text (the Markdown source) it shows.
 *   `#reasoning-output`: the main agent's reasoning, plain text
 *   (textContent exact). `#tools`: the main agent's tool calls
 *   (`figure[data-call-id]`) and input requests.
 * - `#status`: "completed: stop · 5 input, 20 output tokens",
 *   "completed: cancelled", "failed: unavailable — message (REASON)",
 *   "error: not_found — message".
 * - `document.body.dataset.state`: "idle" | "streaming" | "done" (a
 *   `completed` event, cancelled included) | "error" (a `failed` event or an
 *   error raised by the call).
 * - `document.body.dataset.connection` and `#indicator`: "idle" (no stream),
 *   "connecting" (before the first event), "live", "reconnecting" (the
 *   connection broke; the client retries), "resumed" (it came back and the
 *   stream continued exactly, or was replayed), "text-lost" (it came back
 *   but the log no longer had some events), "closed" (the stream ended).
 *   `body.dataset.transport` is the transport in use (changes on fallback).
 *   While reconnecting, `#indicator` names the attempt and the transport
 *   ("reconnecting over SSE… (attempt 2, unavailable)") and
 *   `body.dataset.attempt` is the attempt number.
 * - `#agents .lane[data-agent="planner"]` (one per named agent, in the
 *   order they first appear) with `.agent-status` (text, `progress`),
 *   `.text` (Markdown, as in `#output`), `details.reasoning`,
 *   `figure.tool[data-call-id]` (with `pre.result`) and
 *   `.input[data-input-id]`. Once the run completes (not cancelled), every
 *   lane's progress bar is full (the run is done, whatever an agent last
 *   reported).
 * - An input request waiting for its answer (`.input[data-answered="false"]`)
 *   has `button[data-input-id][data-answer="yes"|"no"]` (confirm), one
 *   `button[data-input-id][data-answer="<choice>"]` per choice, or
 *   `input[data-input-id]` + `button[data-input-id][data-submit]` (text).
 *   Clicking sends the answer with the client's `sendInput`; once
 *   `input_answered` arrives it shows "Answered: …" and
 *   `data-answered="true"`.
 * - After a reload mid-stream the page resumes the saved stream (session
 *   storage) and replays it from its start: `#output` again holds the whole
 *   answer exactly once, and `#prompt`, `#preset`, `#model` and
 *   `#transport` are those it was asked with. `body.dataset.restored` is
 *   "true" then.
 * - `window.airwaveDemo` (for tests): `{ streamId, transport }` of the
 *   stream shown, and `answerText(agent?)`: the exact text `#output` shows
 *   (no argument), or the text of lane `agent`'s text blocks.
 */
import { FinishReason, ReasoningEffort, ResumeOutcome, Role, type StreamEvent, type Usage } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AirwaveClient,
  codeName,
  createAirwaveClient,
  newTraceparent,
  createPageStreams,
  type ResumableStream,
  type TransportName,
  transportNames,
} from "../client/index.js";
import { type AgentView, type Block, createFrameBatcher, createMessageState, type MessageState, reduceMessages } from "../model/index.js";
import { type BlocksView, createBlocksView } from "./blocks-view.js";

/** How long Stop waits for the server's `completed` (cancelled) before it ends the stream locally, in milliseconds. */
const stopGraceMs = 2_000;

/** The transports offered: every client transport plus "auto". */
type TransportChoice = TransportName | "auto";

/** The presets of `#preset`: the model and the simulator's metadata sent with it. */
const presets: Record<string, { model: string; metadata?: Record<string, string> }> = {
  markdown: { model: "simulator/default", metadata: { "simulator.format": "markdown" } },
  answer: { model: "simulator/default" },
  echo: { model: "simulator/default", metadata: { "simulator.echo": "true" } },
  "agent-confirm": { model: "simulator/agent", metadata: { "simulator.input": "confirm" } },
  "agent-choice": { model: "simulator/agent", metadata: { "simulator.input": "choice" } },
  "agent-text": { model: "simulator/agent", metadata: { "simulator.input": "text" } },
};

/** What the echo preset puts in an untouched prompt box: Markdown to watch render. */
const echoSample = [
  "# Echo",
  "",
  "The answer is **this prompt**, streamed back a few characters at a time. Paste any *Markdown*:",
  "",
  "- lists, `inline code` and [links](https://commonmark.org/)",
  "- tables and fenced code with a language",
  "",
  "| transport | resumes |",
  "| --- | :---: |",
  "| SSE | yes |",
  "| long-poll | yes |",
  "",
  "```python",
  "def greet(name):",
  '    return f"Hello, {name}!"',
  "```",
].join("\n");

type State = "idle" | "streaming" | "done" | "error";
type Connection = "idle" | "connecting" | "live" | "reconnecting" | "resumed" | "text-lost" | "closed";

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is missing`);
  return e;
}

const form = el("ask", HTMLFormElement);
const promptInput = el("prompt", HTMLTextAreaElement);
const presetSelect = el("preset", HTMLSelectElement);
const modelInput = el("model", HTMLInputElement);
const transportSelect = el("transport", HTMLSelectElement);
const reasoningCheck = el("reasoning", HTMLInputElement);
const sendButton = el("send", HTMLButtonElement);
const stopButton = el("stop", HTMLButtonElement);
const output = el("output", HTMLDivElement);
const reasoningBox = el("reasoning-box", HTMLDetailsElement);
const reasoningOutput = el("reasoning-output", HTMLDivElement);
const tools = el("tools", HTMLDivElement);
const status = el("status", HTMLParagraphElement);
const indicator = el("indicator", HTMLSpanElement);
const agentsSection = el("agents-section", HTMLElement);
const agentsBox = el("agents", HTMLDivElement);

/** The page's streams across reloads: detach on pagehide, so a reload resumes. */
const page = createPageStreams({ baseUrl: location.origin, onPageHide: "detach" });
/** The demo's own settings of the saved stream (transport, preset, prompt, model), to restore them with it. */
const settingsKey = "airwave.demo.settings";

/** The stream in flight. */
interface Current {
  readonly client: AirwaveClient;
  readonly streamId: string;
  readonly local: AbortController;
  transport: TransportName;
  stopping: boolean;
  stopTimer?: ReturnType<typeof setTimeout>;
}
let current: Current | undefined;

// ---------------------------------------------------------------------------
// Rendering: the model's view, applied once per frame.

let view: MessageState = createMessageState();
let renderedResets = 0;
const answer = (inputId: string, text: string) => answerInput(inputId, text);
/** #output: the answer agent's text blocks (choice 0), rendered as Markdown. */
const outputView = createBlocksView(output, { include: (b) => b.type === "text" && b.choiceIndex === 0, markdown: true, answer });
let outputAgent: string | undefined;
const mainReasoningView = createBlocksView(reasoningOutput, { include: (b) => b.type === "reasoning", bareText: true, answer });
const mainToolsView = createBlocksView(tools, { include: (b) => b.type === "tool-call" || b.type === "input", answer });
const lanes = new Map<string, { root: HTMLElement; status: HTMLElement; blocks: BlocksView; agent?: AgentView }>();

const batcher = createFrameBatcher<StreamEvent>((events) => {
  view = reduceMessages(view, events);
  render(view);
});

function render(v: MessageState): void {
  if (v.resets !== renderedResets) {
    // The log changed under what was shown (another epoch): draw it again from scratch.
    renderedResets = v.resets;
    clearView();
  }
  const main = v.agents.find((a) => a.id === "");
  if (main) {
    mainReasoningView.update(main.blocks);
    reasoningBox.hidden = !main.blocks.some((b) => b.type === "reasoning");
    mainToolsView.update(main.blocks);
  }
  for (const a of v.agents) if (a.id !== "") renderLane(a);
  const answerAgent = main?.blocks.some(isText) ? main : v.agents.filter((a) => a.id !== "").at(-1);
  if (answerAgent && answerAgent.id !== outputAgent) {
    outputAgent = answerAgent.id;
    outputView.clear();
  }
  if (answerAgent) outputView.update(answerAgent.blocks);
  if (v.gap && connection() !== "reconnecting") setConnection("text-lost");
}

function isText(b: Block): boolean {
  return b.type === "text";
}

function renderLane(a: AgentView): void {
  let lane = lanes.get(a.id);
  if (!lane) {
    const root = document.createElement("article");
    root.className = "lane";
    root.dataset["agent"] = a.id;
    const title = document.createElement("h3");
    title.textContent = a.id;
    const statusLine = document.createElement("p");
    statusLine.className = "agent-status";
    const body = document.createElement("div");
    body.className = "blocks";
    root.append(title, statusLine, body);
    agentsBox.append(root);
    agentsSection.hidden = false;
    lane = { root, status: statusLine, blocks: createBlocksView(body, { markdown: true, answer }) };
    lanes.set(a.id, lane);
  }
  if (lane.agent === a) return;
  if (a.status !== lane.agent?.status) {
    const s = a.status;
    lane.status.replaceChildren();
    if (s) {
      const text = document.createElement("span");
      text.textContent = s.text;
      lane.status.append(text);
      if (s.progress !== undefined) {
        const bar = document.createElement("progress");
        bar.max = 1;
        bar.value = s.progress;
        bar.textContent = `${Math.round(s.progress * 100)}%`;
        lane.status.append(bar);
      }
    }
  }
  lane.blocks.update(a.blocks);
  lane.agent = a;
}

function clearView(): void {
  outputView.clear();
  outputAgent = undefined;
  mainReasoningView.clear();
  reasoningBox.hidden = true;
  mainToolsView.clear();
  lanes.clear();
  agentsBox.replaceChildren();
  agentsSection.hidden = true;
}

// ---------------------------------------------------------------------------
// Streams.

const preset = new URLSearchParams(location.search).get("transport");
if (preset === "auto" || transportNames.includes(preset as TransportName)) transportSelect.value = preset as string;
presetSelect.addEventListener("change", () => {
  modelInput.value = presets[presetSelect.value]?.model ?? modelInput.value;
  if (presetSelect.value === "echo" && promptInput.value === promptInput.defaultValue) promptInput.value = echoSample;
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  void send();
});
promptInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    form.requestSubmit();
  }
});
stopButton.addEventListener("click", () => void stop());

/**
 * A client for the chosen transport: "auto" is WebSocket falling back to SSE,
 * then long-poll; a transport chosen by name is used alone (no fallback), so
 * the page shows that transport's behaviour.
 */
function clientFor(choice: TransportChoice): AirwaveClient {
  // Every request of one answer carries that answer's trace (the gateway's spans join it).
  const traced = { traceparent: () => traceparent };
  return choice === "auto"
    ? createAirwaveClient({ baseUrl: location.origin, transport: "websocket", fallback: ["sse", "long-poll"], ...traced })
    : createAirwaveClient({ baseUrl: location.origin, transport: choice, fallback: [], ...traced });
}

/** The W3C traceparent of the answer being streamed: a new trace per answer. */
let traceparent: string | undefined;

async function send(): Promise<void> {
  if (current) return;
  if (promptInput.value.trim() === "") {
    promptInput.focus();
    return;
  }
  // Echoed verbatim (its whitespace is part of the Markdown); other prompts trimmed.
  const prompt = presetSelect.value === "echo" ? promptInput.value : promptInput.value.trim();
  const choice = transportSelect.value as TransportChoice;
  traceparent = newTraceparent();
  document.body.dataset.traceId = traceparent.split("-")[1];
  const client = clientFor(choice);
  const local = new AbortController();
  const p = presets[presetSelect.value];
  const model = modelInput.value.trim() || "simulator/default";
  const metadata: Record<string, string> = p?.metadata !== undefined && p.model === model ? { ...p.metadata } : {};
  const c: Current = { client, streamId: "", local, transport: client.transport, stopping: false };
  const stream = client.stream(
    {
      request: {
        model,
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: prompt } }] }],
        reasoning: { effort: reasoningCheck.checked ? ReasoningEffort.MEDIUM : ReasoningEffort.NONE },
        metadata,
      },
    },
    { signal: local.signal, ...callbacks(c) },
  );
  saveSettings(choice, prompt, model);
  await follow({ ...c, streamId: stream.streamId }, page.track(stream));
}

/** After a reload: resumes the saved stream, replaying it from its start. */
async function resumeSaved(): Promise<void> {
  const saved = page.restore().at(-1);
  if (!saved) return;
  for (const older of page.restore().slice(0, -1)) page.forget(older.streamId);
  const settings = loadSettings();
  if (settings?.transport) transportSelect.value = settings.transport;
  if (settings?.preset && presets[settings.preset]) {
    presetSelect.value = settings.preset;
    modelInput.value = presets[settings.preset]?.model ?? modelInput.value;
  }
  if (settings?.model !== undefined) modelInput.value = settings.model;
  if (settings?.prompt !== undefined) promptInput.value = settings.prompt;
  document.body.dataset["restored"] = "true";
  const client = clientFor(transportSelect.value as TransportChoice);
  const local = new AbortController();
  const c: Current = { client, streamId: saved.streamId, local, transport: client.transport, stopping: false };
  // From the start, not the saved cursor: the reloaded page kept nothing of what it had shown.
  const stream = client.watch(saved.streamId, undefined, { signal: local.signal, ...callbacks(c) });
  await follow(c, page.track(stream));
}

/** The resume loop's callbacks, which drive the connection indicator. */
function callbacks(c: Current) {
  return {
    onRetry: (r: { attempt: number; error: ConnectError }) => {
      if (c.stopping) return;
      document.body.dataset["attempt"] = String(r.attempt);
      setConnection("reconnecting", `reconnecting over ${transportLabel(c.transport)}… (attempt ${r.attempt}, ${codeName(r.error.code)})`);
    },
    onFallback: (f: { from: string; to: string }) => {
      c.transport = f.to as TransportName;
      document.body.dataset["transport"] = f.to;
      setConnection("reconnecting", `switching from ${transportLabel(f.from)} to ${transportLabel(f.to)}…`);
    },
  };
}

async function follow(c: Current, stream: ResumableStream): Promise<void> {
  current = c;
  (window as unknown as { airwaveDemo: unknown }).airwaveDemo = {
    streamId: c.streamId,
    transport: c.transport,
    answerText: (agent?: string) => (agent === undefined ? outputView : lanes.get(agent)?.blocks)?.text() ?? "",
  };
  document.body.dataset["transport"] = c.transport;
  batcher.cancel();
  view = createMessageState(c.streamId);
  renderedResets = 0;
  clearView();
  setState("streaming");
  setConnection("connecting");
  setStatus(`Streaming over ${transportLabel(c.transport)}…`);
  try {
    for await (const e of stream) {
      noteConnection(e, c);
      batcher.push(e);
      if (e.event.case === "completed" || e.event.case === "failed") batcher.flush();
    }
    batcher.flush();
    finish(view);
  } catch (err) {
    batcher.flush();
    endViews();
    const ce = ConnectError.from(err);
    if (ce.code === Code.Canceled && c.stopping) {
      setStatus("completed: cancelled (the server did not confirm in time)");
      setState("done");
    } else {
      setStatus(`error: ${codeName(ce.code)} — ${ce.rawMessage}`);
      setState("error");
    }
    setConnection("closed");
  } finally {
    clearTimeout(c.stopTimer);
    if (current === c) current = undefined;
  }
}

/** Updates the connection indicator from an event of the stream. */
function noteConnection(e: StreamEvent, c: Current): void {
  const now = connection();
  if (e.event.case === "resumed") {
    const o = e.event.value.outcome;
    if (o === ResumeOutcome.TRIMMED || o === ResumeOutcome.EXPIRED) setConnection("text-lost");
    else if (o !== ResumeOutcome.RECOVERED) setConnection("resumed", "resumed (replayed from the start)");
    // An exact resume is news only after a break (long-poll resumes exactly on every poll).
    else if (now === "reconnecting") setConnection("resumed");
    return;
  }
  if (now === "connecting") setConnection(document.body.dataset["restored"] === "true" ? "resumed" : "live");
  else if (now === "reconnecting") setConnection("resumed");
  if (e.event.case === "started") {
    setStatus(`Streaming ${e.event.value.provider}/${e.event.value.model} over ${transportLabel(c.transport)}…`);
  }
}

/** The stream ended: the open Markdown blocks render as complete. */
function endViews(): void {
  outputView.end();
  for (const lane of lanes.values()) lane.blocks.end();
}

function finish(v: MessageState): void {
  const f = v.finish;
  setConnection("closed");
  endViews();
  if (!f) return;
  if (f.type === "completed") {
    // The run is done, so is every agent's part: full bars, whatever each last reported (not when it was stopped).
    for (const lane of f.reason === FinishReason.CANCELLED ? [] : lanes.values()) {
      const bar = lane.status.querySelector("progress");
      if (bar) {
        bar.value = 1;
        bar.textContent = "100%";
      }
    }
    setStatus(`completed: ${(FinishReason[f.reason] ?? "unspecified").toLowerCase()}${usageText(v.usage)}`);
    setState("done");
  } else {
    setStatus(`failed: ${codeName(f.code)} — ${f.message}${f.reason ? ` (${f.reason})` : ""}${usageText(v.usage)}`);
    setState("error");
  }
}

/**
 * Cancels the generation on the server (the model stops), then lets the
 * loop end on the `completed` (cancelled) event; if that does not come
 * within {@link stopGraceMs}, or the cancel fails, ends the loop locally.
 */
async function stop(): Promise<void> {
  const c = current;
  if (!c || c.stopping) return;
  c.stopping = true;
  stopButton.disabled = true;
  setStatus("Cancelling…");
  c.stopTimer = setTimeout(() => c.local.abort(), stopGraceMs);
  try {
    await c.client.cancel(c.streamId, "stopped by the user");
  } catch {
    c.local.abort(); // e.g. NotFound: the create has not reached the gateway yet
  }
}

/** Sends the answer to an input request of the current stream. */
async function answerInput(inputId: string, text: string): Promise<void> {
  const c = current;
  if (!c) throw new Error("the stream has ended");
  try {
    await c.client.sendInput(c.streamId, inputId, text);
  } catch (err) {
    throw new Error(ConnectError.from(err).rawMessage);
  }
}

// ---------------------------------------------------------------------------
// Small helpers.

/** Saves what the stream was asked with, so a reload mid-answer shows it again. */
function saveSettings(transport: TransportChoice, prompt: string, model: string): void {
  try {
    sessionStorage.setItem(settingsKey, JSON.stringify({ transport, preset: presetSelect.value, prompt, model }));
  } catch {
    // Storage disabled: a reload resumes with the default transport.
  }
}

function loadSettings(): { transport?: string; preset?: string; prompt?: string; model?: string } | undefined {
  try {
    const v: unknown = JSON.parse(sessionStorage.getItem(settingsKey) ?? "null");
    if (typeof v !== "object" || v === null) return undefined;
    const r = v as Record<string, unknown>;
    const transport =
      typeof r["transport"] === "string" && [...transportNames, "auto"].includes(r["transport"]) ? r["transport"] : undefined;
    const str = (k: string) => (typeof r[k] === "string" ? { [k]: r[k] as string } : {});
    return { ...(transport ? { transport } : {}), ...str("preset"), ...str("prompt"), ...str("model") };
  } catch {
    return undefined;
  }
}

/** " · 12 input, 40 output (8 reasoning) tokens"; unknown counts are left out. */
function usageText(u: Usage | undefined): string {
  if (!u) return "";
  const parts: string[] = [];
  if (u.inputTokens !== undefined) parts.push(`${u.inputTokens} input${u.cachedInputTokens ? ` (${u.cachedInputTokens} cached)` : ""}`);
  if (u.outputTokens !== undefined) parts.push(`${u.outputTokens} output${u.reasoningTokens ? ` (${u.reasoningTokens} reasoning)` : ""}`);
  return parts.length ? ` · ${parts.join(", ")} tokens` : "";
}

const labels: Record<string, string> = {
  connect: "Connect",
  "grpc-web": "gRPC-Web",
  sse: "SSE",
  "sse-fetch": "SSE (fetch)",
  ndjson: "NDJSON",
  websocket: "WebSocket",
  "long-poll": "long-poll",
};

function transportLabel(t: string | undefined): string {
  return labels[t ?? ""] ?? String(t);
}

function setState(s: State): void {
  document.body.dataset["state"] = s;
  const streaming = s === "streaming";
  sendButton.disabled = streaming;
  stopButton.disabled = !streaming;
  output.setAttribute("aria-busy", String(streaming));
}

function connection(): Connection {
  return (document.body.dataset["connection"] ?? "idle") as Connection;
}

const indicatorText: Record<Connection, string> = {
  idle: "",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  resumed: "resumed",
  "text-lost": "resumed — some text was lost",
  closed: "",
};

function setConnection(c: Connection, text?: string): void {
  document.body.dataset["connection"] = c;
  if (c !== "reconnecting") delete document.body.dataset["attempt"];
  indicator.textContent = text ?? indicatorText[c];
  indicator.hidden = indicator.textContent === "";
}

function setStatus(text: string): void {
  status.textContent = text;
}

// Start: after every declaration above (the helpers use module constants).
setState("idle");
setConnection("idle");
void resumeSaved();
