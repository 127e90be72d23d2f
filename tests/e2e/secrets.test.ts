/**
 * Secret canaries: no configured secret ever leaves Airwave.
 *
 * Random canary values are configured as the upstream keys (the
 * `OPENAI_API_KEY` shortcut and one routing-file provider per HTTP kind,
 * each with its own key variable, one also with a configured extra header),
 * as an Airwave API key (`AIRWAVE_API_KEYS`) and as the cookie secret
 * (`AIRWAVE_COOKIE_SECRET`). The upstream echoes everything it can into
 * every text it returns, as real providers do: the presented key (also
 * base64- and URL-encoded), every request header and the request body
 * (whose prompt carries the gateway's canaries) in the error body of every
 * status and in each kind's in-stream error event, and `Bearer <key>` or the
 * bare key in its request-id header.
 *
 * Every scenario is driven on every transport (Connect, gRPC-Web, SSE,
 * gRPC, NDJSON, long-poll, WebSocket) through a TCP proxy that records every
 * byte the gateway sent, then every stream is replayed from its start on
 * every transport. The test counts the canaries (raw, base64, base64url,
 * URL-encoded) in those bytes, in what the clients decoded (events, error
 * messages and metadata: gRPC trailers are HPACK-coded on the wire) and in
 * both processes' logs at debug level: 0 everywhere.
 *
 * Requires `npm run build` (the gateway and inference service run as their
 * own processes, as users run them).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toJsonString } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { CreateStreamRequestSchema, OnDetach, Role, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { edgeTransport, edgeTransportNames } from "../support/transports.js";

const canary = (bytes = 16) => `cnry${randomBytes(bytes).toString("hex")}`;

/** The HTTP kinds, each a routing-file provider `p-<kind>` at `<upstream>/<kind>` with its own key variable. */
const kinds = ["openai-chat", "openai-responses", "anthropic", "gemini", "tgi", "ollama"] as const;
type Kind = (typeof kinds)[number];
/** Kinds whose spec reads a request-id header. */
const kindsWithRequestId = new Set<Kind>(["openai-chat", "openai-responses", "anthropic", "tgi"]);

const upstreamKeys: Record<string, string> = Object.fromEntries([
  ["openai-compatible", canary()],
  ...kinds.map((k) => [`p-${k}`, canary()]),
]);
const extraHeader = canary();
const airwaveKey = canary();
const cookieSecret = canary(20);
const allCanaries: Record<string, string> = {
  ...Object.fromEntries(Object.entries(upstreamKeys).map(([p, k]) => [`upstream key of ${p}`, k])),
  "configured header of p-openai-chat": extraHeader,
  "AIRWAVE_API_KEYS key": airwaveKey,
  AIRWAVE_COOKIE_SECRET: cookieSecret,
};
/** Every form a canary could take in echoed text. */
const forms = (s: string) => {
  const b = Buffer.from(s);
  return [s, encodeURIComponent(s), b.toString("base64").replace(/=+$/, ""), b.toString("base64url")];
};

/** The providers the test talks to: `<provider name>` → kind. */
const providers: [string, Kind][] = [["openai-compatible", "openai-chat"], ...kinds.map((k): [string, Kind] => [`p-${k}`, k])];

// 418 stands for "other 4xx": `internal`, the one refusal the gateway logs (with its cause).
const statuses = [400, 401, 403, 404, 408, 409, 413, 418, 422, 429, 500, 503] as const;
/** Statuses whose upstream text the README says is shown (scrubbed). */
const shownStatuses = new Set<number>([400, 404, 413, 422, 429]);
/** The echoed text, shown with the key removed (issue 13 item 2 is about the `%3A` some transports still add). */
const shownAndScrubbed = /Incorrect API key provided(?::|%3A) \[redacted\]/;
type Scenario = `status-${number}` | "stream-error" | "ok-bearer-id" | "ok-plain-id" | "ok-good-id";
const scenarios: Scenario[] = [
  ...statuses.map((s): Scenario => `status-${s}`),
  "stream-error",
  "ok-bearer-id",
  "ok-plain-id",
  "ok-good-id",
];

// ---------------------------------------------------------------------------
// The echoing upstream.

/** The key a request presented, however its kind sends it. */
function presentedKey(req: http.IncomingMessage, url: URL): string {
  const auth = req.headers.authorization?.replace(/^Bearer\s+/i, "");
  const h = (n: string) => (typeof req.headers[n] === "string" ? (req.headers[n] as string) : undefined);
  return auth ?? h("x-api-key") ?? h("x-goog-api-key") ?? h("api-key") ?? url.searchParams.get("key") ?? "";
}

/**
 * The error text a careless upstream returns: the key in three forms, the
 * configured extra header, the gateway canaries from the prompt, then every
 * header and the body (the shown text is cut at 300 characters, so the
 * canaries come first).
 */
function echoText(req: http.IncomingMessage, key: string, body: string): string {
  const echoed = [...body.matchAll(/echo=([A-Za-z0-9]+)/g)].map((m) => m[1]).join(" ");
  return `Incorrect API key provided: ${key} (${Buffer.from(key).toString("base64")}, ${encodeURIComponent(key)}); org ${String(req.headers["x-canary-org"] ?? "")}; prompt ${echoed}; headers ${JSON.stringify(req.headers)}; body ${body}`;
}

/** A non-2xx error body in `kind`'s own format, carrying `text` where its spec reads the message. */
function errorBody(kind: Kind, status: number, text: string): string {
  switch (kind) {
    case "anthropic":
      return JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: text } });
    case "gemini":
      return JSON.stringify({ error: { code: status, message: text, status: "INVALID_ARGUMENT" } });
    case "tgi":
      return JSON.stringify({ error: text, error_type: "validation" });
    case "ollama":
      return JSON.stringify({ error: text });
    default:
      return JSON.stringify({ error: { message: text, type: "invalid_request_error", param: null, code: "invalid_api_key" } });
  }
}

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

/** A 200 body of `kind` whose error event carries `text` (a type whose message is shown). */
/** Anthropic's first event of a stream. */
const anthropicMessageStart = sse(
  {
    type: "message_start",
    message: { id: "msg_1", type: "message", role: "assistant", content: [], model: "m", usage: { input_tokens: 1, output_tokens: 0 } },
  },
  "message_start",
);

function streamErrorBody(kind: Kind, text: string): string {
  switch (kind) {
    case "openai-chat":
      return (
        sse({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" } }] }) +
        sse({ error: { message: text, type: "invalid_request_error" } })
      );
    case "openai-responses":
      return (
        sse({ type: "response.created", response: { id: "resp_1", status: "in_progress" } }, "response.created") +
        sse({ type: "error", code: "invalid_prompt", message: text, param: null }, "error")
      );
    case "anthropic":
      return anthropicMessageStart + sse({ type: "error", error: { type: "invalid_request_error", message: text } }, "error");
    case "gemini":
      return sse({ error: { code: 400, message: text, status: "INVALID_ARGUMENT" } });
    case "tgi":
      return sse({ error: text, error_type: "validation" });
    case "ollama":
      return `${JSON.stringify({ error: `invalid request: ${text}` })}\n`;
  }
}

/** A 200 body of `kind` that answers "hi" and ends normally; provider extras carry the key where the kind keeps them. */
function okBody(kind: Kind, key: string): string {
  switch (kind) {
    case "openai-chat":
      return (
        sse({
          id: "c1",
          object: "chat.completion.chunk",
          model: "m",
          system_fingerprint: `fp ${key}`,
          choices: [{ index: 0, delta: { role: "assistant", content: "hi" }, finish_reason: null }],
        }) +
        sse({ id: "c1", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
        "data: [DONE]\n\n"
      );
    case "openai-responses":
      return (
        sse({ type: "response.created", response: { id: "resp_1", status: "in_progress" } }, "response.created") +
        sse(
          { type: "response.output_text.delta", item_id: "m1", output_index: 0, content_index: 0, delta: "hi" },
          "response.output_text.delta",
        ) +
        sse(
          { type: "response.completed", response: { id: "resp_1", status: "completed", usage: { input_tokens: 1, output_tokens: 1 } } },
          "response.completed",
        )
      );
    case "anthropic":
      return (
        anthropicMessageStart +
        sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start") +
        sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } }, "content_block_delta") +
        sse({ type: "content_block_stop", index: 0 }, "content_block_stop") +
        sse({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } }, "message_delta") +
        sse({ type: "message_stop" }, "message_stop")
      );
    case "gemini":
      return sse({
        candidates: [{ content: { role: "model", parts: [{ text: "hi" }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1 },
      });
    case "tgi":
      return (
        sse({ index: 1, token: { id: 1, text: "hi", logprob: 0, special: false }, generated_text: null, details: null }) +
        sse({
          index: 2,
          token: { id: 2, text: "", logprob: 0, special: true },
          generated_text: "hi",
          details: { finish_reason: "eos_token", generated_tokens: 2 },
        })
      );
    case "ollama":
      return (
        `${JSON.stringify({ model: "m", message: { role: "assistant", content: "hi" }, done: false })}\n` +
        `${JSON.stringify({ model: "m", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 1, eval_count: 1 })}\n`
      );
  }
}

async function startEchoingUpstream() {
  let requests = 0;
  const server = http.createServer(async (req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const kind = url.pathname.split("/")[1] as Kind;
    const scenario = (/scenario=([a-z0-9-]+)/.exec(body)?.[1] ?? "ok-good-id") as Scenario;
    const key = presentedKey(req, url);
    const text = echoText(req, key, body);
    const requestId = scenario === "ok-plain-id" ? key : scenario === "ok-good-id" ? "req_0123456789abcdef" : `Bearer ${key}`;
    const idHeaders = { "x-request-id": requestId, "request-id": requestId };
    const contentType = kind === "ollama" ? "application/x-ndjson" : "text/event-stream";
    if (scenario.startsWith("status-")) {
      const status = Number(scenario.slice("status-".length));
      res.writeHead(status, { "content-type": "application/json", ...idHeaders });
      res.end(errorBody(kind, status, text));
    } else if (scenario === "stream-error") {
      res.writeHead(200, { "content-type": contentType, ...idHeaders });
      res.end(streamErrorBody(kind, text));
    } else {
      res.writeHead(200, { "content-type": contentType, ...idHeaders });
      res.end(okBody(kind, key));
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ---------------------------------------------------------------------------
// A TCP proxy that records every byte the gateway sends to a client.

async function startRecordingProxy(targetPort: number) {
  const downs: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Buffer[] = [];
    downs.push(chunks);
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (b: Buffer) => chunks.push(b));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** What the gateway sent, one buffer per connection. */
    received: () => downs.map((c) => Buffer.concat(c)),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------------------
// Clients: every transport, authenticated with the Airwave API key.

/** Every edge transport, each sending the Airwave API key. */
const transports = Object.fromEntries(edgeTransportNames.map((t) => [t, (baseUrl: string) => edgeTransport(t, baseUrl, airwaveKey)]));

/** What one client call received, decoded: events (canonical JSON) and the error, if any. */
interface Received {
  readonly events: StreamEvent[];
  readonly error: ConnectError | undefined;
  /** Everything decoded, as text, for the canary count. */
  readonly text: string;
}

async function collect(it: () => AsyncIterable<StreamEvent>): Promise<Received> {
  const events: StreamEvent[] = [];
  let error: ConnectError | undefined;
  try {
    for await (const e of it()) events.push(e);
  } catch (e) {
    error = ConnectError.from(e);
  }
  const text = [
    ...events.map((e) => toJsonString(StreamEventSchema, e)),
    error ? `${error.code} ${error.rawMessage} ${JSON.stringify([...error.metadata.entries()])}` : "",
  ].join("\n");
  return { events, error, text };
}

const createRequest = (streamId: string, provider: string, scenario: Scenario) =>
  create(CreateStreamRequestSchema, {
    streamId,
    onDetach: OnDetach.CONTINUE,
    request: {
      model: `${provider}/m`,
      // The prompt carries the gateway's secrets (a careless client could), which the upstream echoes back.
      messages: [
        { role: Role.USER, parts: [{ part: { case: "text", value: `scenario=${scenario} echo=${airwaveKey} echo=${cookieSecret}` } }] },
      ],
    },
  });

// ---------------------------------------------------------------------------

let up: Awaited<ReturnType<typeof startEchoingUpstream>>;
let airwave: AirwaveProcess;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let dir: string;

beforeAll(async () => {
  up = await startEchoingUpstream();
  dir = mkdtempSync(join(tmpdir(), "airwave-secrets-"));
  const routing = {
    providers: Object.fromEntries(
      kinds.map((k) => [
        `p-${k}`,
        {
          kind: k,
          baseUrl: `${up.url}/${k}`,
          apiKeyEnv: `CANARY_KEY_${k.replace(/-/g, "_").toUpperCase()}`,
          ...(k === "openai-chat" ? { headers: { "x-canary-org": extraHeader } } : {}),
        },
      ]),
    ),
  };
  const file = join(dir, "providers.json");
  writeFileSync(file, JSON.stringify(routing));
  airwave = await startAirwaveProcess(
    {
      AIRWAVE_PROVIDERS_FILE: file,
      OPENAI_BASE_URL: `${up.url}/openai-chat`,
      OPENAI_API_KEY: upstreamKeys["openai-compatible"] as string,
      ...Object.fromEntries(kinds.map((k) => [`CANARY_KEY_${k.replace(/-/g, "_").toUpperCase()}`, upstreamKeys[`p-${k}`] as string])),
      AIRWAVE_API_KEYS: `tester:${airwaveKey}`,
      // Optional: the key is checked when sent, and the page mints cookies signed with the secret.
      AIRWAVE_AUTH: "optional",
      AIRWAVE_COOKIE_SECRET: cookieSecret,
      AIRWAVE_UPSTREAM_RETRIES: "0",
      AIRWAVE_LOG_LEVEL: "debug",
    },
    { separateInference: true },
  );
  proxy = await startRecordingProxy(Number(new URL(airwave.url).port));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await airwave?.stop();
  await up?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("secret canaries", () => {
  it("finds 0 occurrences of any secret in every byte clients received, in replays and in the logs", async () => {
    const received: Received[] = [];
    const created: { transport: string; streamId: string }[] = [];
    // A browser loads the page: it gets a cookie signed with the secret (never the secret).
    const page = await fetch(`${proxy.url}/`);
    expect(page.headers.get("set-cookie")).toMatch(/^airwave_id=/);
    await page.arrayBuffer();

    for (const [name, make] of Object.entries(transports)) {
      const t = make(proxy.url);
      const cases = providers.flatMap(([provider, kind]) => scenarios.map((scenario) => ({ provider, kind, scenario })));
      // In batches, so one transport's sockets stay few on a shared machine.
      for (let i = 0; i < cases.length; i += 20) {
        await Promise.all(
          cases.slice(i, i + 20).map(async ({ provider, kind, scenario }) => {
            const streamId = randomBytes(16).toString("base64url");
            created.push({ transport: name, streamId });
            const r = await collect(() => t.create(createRequest(streamId, provider, scenario), AbortSignal.timeout(60_000)));
            received.push(r);
            const what = `${name} ${provider} ${scenario}`;
            if (scenario.startsWith("status-")) {
              const status = Number(scenario.slice("status-".length));
              expect.soft(r.error, what).toBeInstanceOf(ConnectError);
              // The upstream's text is shown for these statuses — scrubbed.
              if (shownStatuses.has(status)) expect.soft(r.error?.rawMessage, what).toMatch(shownAndScrubbed);
            } else if (scenario === "stream-error") {
              const last = r.events.at(-1)?.event;
              expect.soft(last?.case, what).toBe("failed");
              expect.soft(last?.case === "failed" && last.value.message, what).toContain("[redacted]");
            } else {
              expect.soft(r.error, what).toBeUndefined();
              expect.soft(r.events.at(-1)?.event.case, what).toBe("completed");
              const started = r.events[0]?.event;
              expect.soft(started?.case, what).toBe("started");
              // A plain id passes; `Bearer <key>` and the bare key are dropped.
              const wantId = scenario === "ok-good-id" && kindsWithRequestId.has(kind) ? "req_0123456789abcdef" : "";
              expect.soft(started?.case === "started" && started.value.requestId, what).toBe(wantId);
            }
          }),
        );
      }
      t.close?.();
    }

    // Replay every stream from its start, on every transport.
    let replays = 0;
    for (const [_name, make] of Object.entries(transports)) {
      const t = make(proxy.url);
      for (let i = 0; i < created.length; i += 25) {
        await Promise.all(
          created.slice(i, i + 25).map(async ({ streamId }) => {
            received.push(await collect(() => t.watch(streamId, undefined, AbortSignal.timeout(60_000))));
            replays++;
          }),
        );
      }
      t.close?.();
    }
    // Let the processes flush their logs, then stop them (shutdown logs count too).
    await proxy.close();
    await airwave.stop();
    const logs = airwave.output();

    const bytes = proxy.received();
    const count = (haystack: string | Buffer, needle: string) => {
      let n = 0;
      for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) n++;
      return n;
    };
    const found: Record<string, { bytes: number; decoded: number; logs: number }> = {};
    for (const [label, secret] of Object.entries(allCanaries)) {
      const f = { bytes: 0, decoded: 0, logs: 0 };
      for (const form of forms(secret)) {
        for (const b of bytes) f.bytes += count(b, form);
        for (const r of received) f.decoded += count(r.text, form);
        f.logs += count(logs, form);
      }
      found[label] = f;
    }
    const scanned = bytes.reduce((n, b) => n + b.byteLength, 0);
    const outcomes = { refused: received.filter((r) => r.error).length, streamed: received.filter((r) => !r.error).length };
    console.log(
      `secret canaries: ${received.length} client responses (${created.length} creates on ${Object.keys(transports).length} transports, ${replays} replays; ${outcomes.refused} errors, ${outcomes.streamed} streams), ${bytes.length} connections, ${scanned} bytes scanned, ${logs.length} log characters, ${up.requests} upstream requests, ${Object.keys(allCanaries).length} canaries × ${forms("x").length} forms: ${JSON.stringify(found)}`,
    );
    expect(up.requests).toBeGreaterThanOrEqual(providers.length * scenarios.length * Object.keys(transports).length);
    expect(scanned).toBeGreaterThan(0);
    for (const [label, f] of Object.entries(found)) expect(f, label).toEqual({ bytes: 0, decoded: 0, logs: 0 });
  }, 300_000);
});
