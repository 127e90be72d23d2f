import { useChat } from "@airwave/react";
import { createAirwaveClient } from "@airwave/web";
import { useState } from "react";

const client = createAirwaveClient({ baseUrl: location.origin, transport: "websocket" });

// biome-ignore format: the ten-line component of the README, kept exactly as shown there
export function Chat() {
  const { messages, status, sendMessage, stop } = useChat({ client, resume: true });
  const [text, setText] = useState("");
  const busy = status === "submitted" || status === "streaming";
  return (
    <form onSubmit={(e) => (e.preventDefault(), void sendMessage({ text }), setText(""))}>
      {messages.map((m) => <p key={m.id}>{m.role}: {m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")}</p>)}
      <input value={text} onChange={(e) => setText(e.target.value)} />
      <button type="submit" disabled={busy}>Send</button> <button type="button" disabled={!busy} onClick={() => void stop()}>Stop</button>
    </form>
  );
}
