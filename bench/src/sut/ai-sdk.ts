/**
 * Child process: the Vercel AI SDK as its docs show it: `POST /api/chat`
 * calls `streamText` with an `@ai-sdk/openai-compatible` model pointing at
 * the paced upstream (UPSTREAM_OPENAI_URL) and answers
 * `toUIMessageStreamResponse()` (SSE of UI message chunks), served over
 * node:http by copying the Web Response onto the Node response.
 */
import * as http from "node:http";
import { Readable } from "node:stream";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { streamText } from "ai";
import { reportReady } from "./child-control.ts";

const provider = createOpenAICompatible({ name: "paced", baseURL: process.env.UPSTREAM_OPENAI_URL as string, apiKey: "bench" });

const server = http.createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => {
    const ac = new AbortController();
    res.on("close", () => ac.abort());
    let body: { model?: string; prompt?: string };
    try {
      body = JSON.parse(Buffer.concat(parts).toString("utf8")) as typeof body;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const result = streamText({ model: provider.chatModel(body.model ?? "paced"), prompt: body.prompt ?? "hi", abortSignal: ac.signal });
    const response = result.toUIMessageStreamResponse();
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const body$ = response.body;
    if (!body$) {
      res.end();
      return;
    }
    Readable.fromWeb(body$ as Parameters<typeof Readable.fromWeb>[0])
      .on("error", () => res.destroy())
      .pipe(res);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  reportReady(`http://127.0.0.1:${a.port}`);
});
