import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";

/** What the replay server saw of one request. */
export interface ReplayRequest {
  readonly path: string;
  readonly body: unknown;
  readonly headers: http.IncomingHttpHeaders;
  /** Resolves when the client closed its socket before the body was fully sent. */
  readonly closedEarly: Promise<void>;
  /** True once the whole body was sent. */
  finished: boolean;
}

export interface ReplayOptions {
  /** Delay between SSE events, in ms (pacing like a model). Default 2. */
  paceMs?: number;
}

/**
 * A small HTTP server on 127.0.0.1 that answers any POST (or GET) with a
 * recorded response body, byte for byte, paced event by event (`.sse` files
 * are split after each blank line, `.ndjson` files after each line). Used as
 * the "model" for Airwave's providers and for the providers' official SDKs
 * alike, whatever path they call.
 *
 * The fixture is named by, in order: the `x-replay-fixture` request header;
 * the JSON body's `model`; a `/models/<name>:` segment of the URL path
 * (Gemini puts the model there). The name `<file name in dir>` replays that
 * file; `<file>@hold=N` sends N events and then holds the response open
 * until the client closes it; `status=NNN` answers that HTTP status with an
 * OpenAI-style error body (`status=NNN,retry-after=S` adds `Retry-After: S`).
 */
export async function startReplayServer(dir: string, o: ReplayOptions = {}) {
  const requests: ReplayRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    let closeEarly!: () => void;
    const r: ReplayRequest = {
      path: req.url ?? "",
      body,
      headers: req.headers,
      closedEarly: new Promise<void>((res) => (closeEarly = res)),
      finished: false,
    };
    requests.push(r);
    res.on("close", () => {
      if (!r.finished) closeEarly();
    });
    const model = fixtureName(req, body);
    const status = /^status=(\d{3})(?:,retry-after=(\d+))?$/.exec(model);
    if (status) {
      res.writeHead(Number(status[1]), {
        "content-type": "application/json",
        ...(status[2] === undefined ? {} : { "retry-after": status[2] }),
      });
      res.end(JSON.stringify({ error: { message: "replayed error", type: "test", code: status[1] } }));
      r.finished = true;
      return;
    }
    const [name, holdSpec] = model.split("@hold=");
    const hold = holdSpec === undefined ? undefined : Number(holdSpec);
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, basename(name ?? "")));
    } catch {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no fixture ${name}`, type: "invalid_request_error", code: "model_not_found" } }));
      r.finished = true;
      return;
    }
    const ndjson = (name ?? "").endsWith(".ndjson");
    res.writeHead(200, {
      "content-type": ndjson ? "application/x-ndjson" : "text/event-stream",
      "cache-control": "no-cache",
    });
    const pieces = ndjson ? splitLines(bytes) : splitEvents(bytes);
    for (let i = 0; i < pieces.length; i++) {
      if (res.destroyed) return;
      if (hold !== undefined && i >= hold) return; // hold open until the client leaves
      res.write(pieces[i]);
      await new Promise((ok) => setTimeout(ok, o.paceMs ?? 2));
    }
    r.finished = true;
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    /** Base URL to use as OPENAI_BASE_URL. */
    url: `http://127.0.0.1:${port}/v1`,
    /** The server's origin, `http://127.0.0.1:<port>`, for providers whose base URL has no `/v1`. */
    origin: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The fixture a request names (see {@link startReplayServer}); "" when none. */
function fixtureName(req: http.IncomingMessage, body: unknown): string {
  const header = req.headers["x-replay-fixture"];
  if (typeof header === "string" && header !== "") return header;
  const model = (body as { model?: unknown } | undefined)?.model;
  if (typeof model === "string" && model !== "") return model;
  const m = /\/models\/([^/:?]+)/.exec(req.url ?? "");
  return m?.[1] ? decodeURIComponent(m[1]) : "";
}

/** Splits a body after each LF, keeping every byte. */
function splitLines(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, start)) {
    out.push(b.subarray(start, i + 1));
    start = i + 1;
  }
  if (start < b.length) out.push(b.subarray(start));
  return out;
}

/** Splits a body after each event separator (LF LF or CRLF CRLF), keeping every byte. */
function splitEvents(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a && (b[i + 1] === 0x0a || (b[i + 1] === 0x0d && b[i + 2] === 0x0a))) {
      const end = b[i + 1] === 0x0a ? i + 2 : i + 3;
      out.push(b.subarray(start, end));
      start = end;
      i = end - 1;
    }
  }
  if (start < b.length) out.push(b.subarray(start));
  return out;
}
