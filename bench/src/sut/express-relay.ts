/**
 * Child process: the textbook Express SSE relay (the pattern of STYLE.md §3.1,
 * minus its setInterval): `POST /v1/chat/completions` fetches the upstream
 * (UPSTREAM_OPENAI_URL) with `stream: true`, splits its SSE body into lines
 * and writes each `data:` line to the client as it comes; no backpressure,
 * no ids, no heartbeats. This is what many teams write first.
 */
import express from "express";
import { reportReady } from "./child-control.ts";

const upstream = process.env.UPSTREAM_OPENAI_URL as string;
const app = express();
app.use(express.json());
app.post("/v1/chat/completions", async (req, res) => {
  const ac = new AbortController();
  res.on("close", () => ac.abort());
  try {
    const r = await fetch(`${upstream}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...req.body, stream: true }),
      signal: ac.signal,
    });
    res.setHeader("content-type", "text/event-stream");
    res.setHeader("cache-control", "no-cache");
    res.flushHeaders();
    const decoder = new TextDecoder();
    let carry = "";
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      const lines = (carry + decoder.decode(chunk, { stream: true })).split("\n");
      carry = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("data: ")) res.write(`${line}\n\n`);
    }
    res.end();
  } catch {
    if (!res.headersSent) res.status(502).json({ error: "upstream failed" });
    else res.end();
  }
});
const server = app.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  reportReady(`http://127.0.0.1:${a.port}`);
});
server.keepAliveTimeout = 60_000;
