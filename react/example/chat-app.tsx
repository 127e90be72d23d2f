/**
 * The example chat: `useChat` with every kind of part rendered, Stop,
 * Regenerate, the connection indicator, and the agent's questions as
 * buttons. `?transport=` picks the client's transport (default websocket),
 * `?model=` the model (default simulator), `?input=confirm|choice|text`
 * what `simulator/agent` asks before it writes (its `simulator.input`).
 *
 * Test contract (tests/e2e/browser-react.test.ts): `main[data-status]` is
 * the hook's status, `main[data-connection]` its connection state;
 * `#messages > li[data-role][data-id]` one per message, the assistant's
 * text in `.text`; `#prompt`, `#send`, `#stop`, `#regenerate`; input
 * requests have `button[data-input-id][data-answer]`.
 */
import { type ChatPart, type ChatRequestContext, defaultRequest, useChat } from "@airwave/react";
import { codeName, createAirwaveClient, type TransportName, transportNames } from "@airwave/web";
import { useState } from "react";

const params = new URLSearchParams(location.search);
const asked = params.get("transport") ?? "websocket";
const transport: TransportName = (transportNames as readonly string[]).includes(asked) ? (asked as TransportName) : "websocket";
const client = createAirwaveClient({ baseUrl: location.origin, transport });
const model = params.get("model") ?? "simulator";
const input = params.get("input");

/** The default request, plus the simulator's `simulator.input` when `?input=` asks for it. */
function prepareRequest(c: ChatRequestContext) {
  const req = defaultRequest(c);
  return input === null ? req : { request: { ...req.request, metadata: { "simulator.input": input } } };
}

export function ChatApp() {
  const { messages, status, error, connection, sendMessage, stop, regenerate, answerInput } = useChat({
    client,
    model,
    prepareRequest,
    resume: true,
  });
  const [text, setText] = useState("How do lighthouses guide ships at night?");
  const live = status === "submitted" || status === "streaming";
  const indicator =
    connection.state === "reconnecting"
      ? `reconnecting over ${connection.transport} (attempt ${connection.attempt ?? 1})…`
      : `${connection.state} · ${connection.transport}`;
  return (
    <main data-status={status} data-connection={connection.state}>
      <h1>Airwave · React chat</h1>
      <ol id="messages">
        {messages.map((m) => (
          <li key={m.id} data-role={m.role} data-id={m.id}>
            <span className="role">{m.role}</span>
            {m.parts.map((p, i) => (
              <Part key={keyOf(p, i)} part={p} answer={(inputId, answer) => void answerInput({ inputId, text: answer })} />
            ))}
          </li>
        ))}
      </ol>
      <p id="status">
        {status}
        {error ? ` — ${codeName(error.code)}: ${error.rawMessage}` : ""} <span id="indicator">{indicator}</span>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim() === "" || live) return;
          void sendMessage({ text });
          setText("");
        }}
      >
        <textarea id="prompt" rows={3} value={text} onChange={(e) => setText(e.target.value)} />
        <button id="send" type="submit" disabled={live}>
          Send
        </button>
        <button id="stop" type="button" disabled={!live} onClick={() => void stop()}>
          Stop
        </button>
        <button id="regenerate" type="button" disabled={live || messages.length === 0} onClick={() => void regenerate()}>
          Regenerate
        </button>
      </form>
    </main>
  );
}

/** A React key for a part: its call, input or agent id where it has one (text blocks have none but their place). */
function keyOf(p: ChatPart, i: number): string {
  if (p.type === "dynamic-tool") return `tool-${p.toolCallId}`;
  if (p.type === "input-request") return `input-${p.inputId}`;
  if (p.type === "data-status") return `status-${p.agentId}`;
  return `${p.type}-${p.agentId}-${i}`;
}

function Part({ part: p, answer }: { part: ChatPart; answer: (inputId: string, text: string) => void }) {
  switch (p.type) {
    case "text":
      return <span className="text">{p.text}</span>;
    case "reasoning":
      return (
        <details className="reasoning">
          <summary>reasoning</summary>
          {p.text}
        </details>
      );
    case "dynamic-tool":
      return (
        <figure className="tool" data-call-id={p.toolCallId} data-state={p.state}>
          <code>
            {p.toolName}({p.rawInput})
          </code>
          {p.state === "output-available" ? <pre>{JSON.stringify(p.output)}</pre> : null}
          {p.state === "output-error" ? <pre>{p.errorText}</pre> : null}
        </figure>
      );
    case "data-status":
      return (
        <p className="agent-status" data-agent={p.id}>
          {p.id || "agent"}: {p.data.text} {p.data.progress !== undefined ? <progress value={p.data.progress} /> : null}
        </p>
      );
    case "input-request": {
      if (p.state === "answered") return <p className="input">Answered: {p.answer}</p>;
      const options = p.kind === "confirm" ? ["yes", "no"] : p.kind === "choice" ? p.choices : [];
      return (
        <div className="input" data-input-id={p.inputId}>
          {p.prompt}{" "}
          {options.length > 0 ? (
            options.map((o) => (
              <button key={o} type="button" data-input-id={p.inputId} data-answer={o} onClick={() => answer(p.inputId, o)}>
                {o}
              </button>
            ))
          ) : (
            <TextAnswer onAnswer={(t) => answer(p.inputId, t)} inputId={p.inputId} />
          )}
        </div>
      );
    }
  }
}

function TextAnswer({ inputId, onAnswer }: { inputId: string; onAnswer: (text: string) => void }) {
  const [t, setT] = useState("");
  return (
    <>
      <input data-input-id={inputId} value={t} onChange={(e) => setT(e.target.value)} />
      <button type="button" data-input-id={inputId} data-answer={t} onClick={() => onAnswer(t)}>
        Answer
      </button>
    </>
  );
}
