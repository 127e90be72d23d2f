import { useChat } from "@airwave/react";
import { createAirwaveClient } from "@airwave/web";
import { useState } from "react";

const client = createAirwaveClient({ baseUrl: location.origin, transport: "websocket" });

// The README's ten-line chat component.
export function MinimalChat() {
  const { messages, status, sendMessage, stop } = useChat({ client, model: "simulator", resume: true });
  const [text, setText] = useState("");
  return (
    <form onSubmit={(e) => (e.preventDefault(), void sendMessage({ text }), setText(""))}>
      {messages.map((m) => (
        <p key={m.id}>
          {m.role}: {m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")}
        </p>
      ))}
      <input value={text} onChange={(e) => setText(e.target.value)} />
      {status === "streaming" ? (
        <button type="button" onClick={() => void stop()}>
          Stop
        </button>
      ) : (
        <button type="submit">Send</button>
      )}
    </form>
  );
}
