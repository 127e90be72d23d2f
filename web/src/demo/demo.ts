/**
 * The demo page: a prompt, a transport, and the answer streaming in.
 *
 * Test contract (stable): `#prompt`, `#model`, `#transport` (connect |
 * grpc-web | sse), `#reasoning`, `#send`, `#stop`, `#output` (the answer text
 * only), `#status` ("completed: stop …", "failed: unavailable …",
 * "error: not_found …"), and `document.body.dataset.state`: "idle" |
 * "streaming" | "done" (a `completed` event, cancelled included) | "error"
 * (a `failed` event or an error raised by the call).
 */
import { FinishReason, fromProtoCode, ReasoningEffort, ResumeOutcome, Role, type StreamEvent, type Usage } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { type AirwaveClient, codeName, createAirwaveClient, type TransportName, transportNames } from "../client/index.js";

/** How long Stop waits for the server's `completed` (cancelled) before it ends the stream locally, in milliseconds. */
const stopGraceMs = 2_000;

type State = "idle" | "streaming" | "done" | "error";

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is missing`);
  return e;
}

const form = el("ask", HTMLFormElement);
const promptInput = el("prompt", HTMLTextAreaElement);
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

/** The stream in flight. */
interface Current {
  readonly client: AirwaveClient;
  readonly streamId: string;
  readonly local: AbortController;
  stopping: boolean;
  stopTimer?: ReturnType<typeof setTimeout>;
}
let current: Current | undefined;

// Text nodes that grow with appendData: appending stays O(chunk), and
// #output's textContent is exactly the answer text.
let answerText = new Text();
let reasoningText = new Text();
let lastUsage: Usage | undefined;

const preset = new URLSearchParams(location.search).get("transport");
if (transportNames.includes(preset as TransportName)) transportSelect.value = preset as string;

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
setState("idle");

async function send(): Promise<void> {
  if (current) return;
  const prompt = promptInput.value.trim();
  if (prompt === "") {
    promptInput.focus();
    return;
  }
  const transport = transportSelect.value as TransportName;
  const client = createAirwaveClient({ baseUrl: location.origin, transport });
  const local = new AbortController();
  const stream = client.stream(
    {
      request: {
        model: modelInput.value.trim() || "simulator",
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: prompt } }] }],
        reasoning: { effort: reasoningCheck.checked ? ReasoningEffort.MEDIUM : ReasoningEffort.NONE },
      },
    },
    {
      signal: local.signal,
      onRetry: (r) => setStatus(`Reconnecting (attempt ${r.attempt}, ${codeName(r.error.code)})…`),
    },
  );
  const c: Current = { client, streamId: stream.streamId, local, stopping: false };
  current = c;
  clearAnswer();
  setState("streaming");
  setStatus(`Streaming over ${transportLabel(transport)}…`);
  try {
    for await (const e of stream) render(e);
  } catch (err) {
    const ce = ConnectError.from(err);
    if (ce.code === Code.Canceled && c.stopping) {
      setStatus("completed: cancelled (the server did not confirm in time)");
      setState("done");
    } else {
      setStatus(`error: ${codeName(ce.code)} — ${ce.rawMessage}`);
      setState("error");
    }
  } finally {
    clearTimeout(c.stopTimer);
    current = undefined;
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

function render(e: StreamEvent): void {
  switch (e.event.case) {
    case "started":
      setStatus(`Streaming ${e.event.value.provider}/${e.event.value.model} over ${transportLabel(current?.client.transport)}…`);
      break;
    case "textDelta":
      answerText.appendData(e.event.value.text);
      break;
    case "reasoningDelta":
      reasoningBox.hidden = false;
      reasoningText.appendData(e.event.value.redacted ? "[redacted]" : e.event.value.text);
      break;
    case "toolCallStarted":
      toolBlock(e.event.value.callId, e.event.value.name);
      break;
    case "toolCallDelta":
      toolBlock(e.event.value.callId).args.append(e.event.value.argumentsDelta);
      break;
    case "toolCallCompleted":
      toolBlock(e.event.value.callId, e.event.value.name).args.textContent = prettyJson(e.event.value.argumentsJson);
      break;
    case "toolResult": {
      const pre = document.createElement("pre");
      pre.className = e.event.value.isError ? "result is-error" : "result";
      pre.textContent = `→ ${e.event.value.result}`;
      toolBlock(e.event.value.callId).figure.append(pre);
      break;
    }
    case "status":
      setStatus(e.event.value.progress === undefined ? e.event.value.text : `${e.event.value.text} (${Math.round(e.event.value.progress * 100)}%)`);
      break;
    case "inputRequested":
      setStatus(`The model asks: ${e.event.value.prompt} (answering is not supported in this demo)`);
      break;
    case "usage":
      lastUsage = e.event.value;
      break;
    case "completed": {
      const reason = (FinishReason[e.event.value.finishReason] ?? "unspecified").toLowerCase();
      setStatus(`completed: ${reason}${usageText(e.event.value.usage ?? lastUsage)}`);
      setState("done");
      break;
    }
    case "failed": {
      const f = e.event.value;
      setStatus(`failed: ${codeName(fromProtoCode(f.code))} — ${f.message}${f.reason ? ` (${f.reason})` : ""}${usageText(f.usage ?? lastUsage)}`);
      setState("error");
      break;
    }
    case "resumed": {
      const o = e.event.value.outcome;
      const lost = o === ResumeOutcome.TRIMMED || o === ResumeOutcome.EXPIRED;
      // Another epoch (or a cursor the log never had): what is on screen may not match
      // the log any more; the events that follow replay the stream from its start.
      if (o !== ResumeOutcome.RECOVERED && !lost) clearAnswer();
      setStatus(`Streaming over ${transportLabel(current?.client.transport)}… (resumed${lost ? "; some text was lost" : ""})`);
      break;
    }
    default:
      break; // heartbeats never arrive here; unknown kinds are ignored
  }
}

function clearAnswer(): void {
  answerText = new Text();
  output.replaceChildren(answerText);
  reasoningText = new Text();
  reasoningOutput.replaceChildren(reasoningText);
  reasoningBox.hidden = true;
  tools.replaceChildren();
  lastUsage = undefined;
}

/** The block showing one tool call, created on first use. */
function toolBlock(callId: string, name?: string): { figure: HTMLElement; args: HTMLElement } {
  let figure = [...tools.children].find((c): c is HTMLElement => c instanceof HTMLElement && c.dataset["callId"] === callId);
  if (!figure) {
    figure = document.createElement("figure");
    figure.className = "tool";
    figure.dataset["callId"] = callId;
    figure.append(document.createElement("figcaption"), document.createElement("pre"));
    tools.append(figure);
  }
  const caption = figure.querySelector("figcaption");
  if (caption && name) caption.textContent = `Tool call: ${name}`;
  return { figure, args: figure.querySelector("pre") ?? figure };
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
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

function transportLabel(t: TransportName | undefined): string {
  return t === "grpc-web" ? "gRPC-Web" : t === "sse" ? "SSE" : "Connect";
}

function setState(s: State): void {
  document.body.dataset["state"] = s;
  const streaming = s === "streaming";
  sendButton.disabled = streaming;
  stopButton.disabled = !streaming;
  output.setAttribute("aria-busy", String(streaming));
}

function setStatus(text: string): void {
  status.textContent = text;
}
