import type { Transport } from "../metrics/gateway-metrics.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fromJsonString, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelStreamResponseSchema,
  CreateStreamRequestSchema,
  GetStreamResponseSchema,
  laterCursor,
  parseCursor,
  type SendInputRequest,
  SendInputRequestSchema,
  SendInputResponseSchema,
  type StreamEvent,
} from "@airwave/proto";
import type { Authenticator } from "../auth/authenticator.js";
import { writeError } from "../errors/write-error.js";
import { coalesceInterval } from "../hub/coalesce-interval.js";
import type { Hub } from "../hub/hub.js";
import { ndjsonEncoder, sseEncoder } from "../stream/encoder.js";
import { batchJson, collectBatch } from "./long-poll.js";
import { checkContentLength, readBody } from "./read-body.js";
import { allow, answerRouteError, header, isExhausted, json, leaving, ownerOf, requireJsonBody, serveWatch } from "./route-kit.js";

type Req = IncomingMessage;
type Res = ServerResponse;

/** Options of the HTTP stream routes; see GatewayConfig for units. */
export interface StreamRoutesOptions {
  heartbeatIdleMs: number;
  writeTimeoutMs: number;
  maxRequestBytes: number;
  longPollMaxWaitMs: number;
  /** Decides the caller's owner (the same one the Connect service uses). */
  auth: Authenticator;
  onError?: (err: ConnectError) => void;
}

/** How a watch is delivered: SSE, NDJSON, or a long-poll JSON batch. */
type Mode = "sse" | "ndjson" | "poll";

const id = "([A-Za-z0-9_-]{1,128})";
const eventsPath = new RegExp(`^/v1/streams/${id}/events$`);
const cancelPath = new RegExp(`^/v1/streams/${id}:cancel$`);
const inputPath = new RegExp(`^/v1/streams/${id}:input$`);
const streamPath = new RegExp(`^/v1/streams/${id}$`);

/**
 * The HTTP shapes of StreamService (README "The API"), for EventSource, fetch, curl,
 * NDJSON readers and long-polling clients. Every path under `/v1/`:
 *
 * - `POST /v1/streams`: body a CreateStreamRequest in canonical Protobuf
 *   JSON (`Content-Type: application/json`, else 415); answers SSE, NDJSON
 *   (`Accept: application/x-ndjson`) or a long-poll batch
 *   (`Accept: application/json`), or as `?mode=sse|ndjson|poll` says.
 * - `GET /v1/streams/{id}/events`: watch or resume after `?after=<cursor>`
 *   or `Last-Event-ID` (both given: the later position wins, see
 *   `laterCursor`), in the same modes; `?wait_ms=` alone also selects
 *   the long-poll. `?agent=<id>` (repeatable) keeps only those agents'
 *   events plus the whole-stream ones (`WatchStreamRequest.agent_ids`).
 *   `?coalesce_ms=` (0 … 5000) reads live at most once per that interval and
 *   merges adjacent deltas (`WatchStreamRequest.coalesce_ms`; also on
 *   `POST /v1/streams`, or its body's `coalesceMs`). SSE answers 204 when the cursor is at the end of an ended
 *   stream (EventSource then stops reconnecting).
 * - `POST /v1/streams/{id}:cancel` (any body or none, for
 *   navigator.sendBeacon) and `DELETE /v1/streams/{id}`: cancel, idempotent;
 *   answer CancelStreamResponse JSON.
 * - `GET /v1/streams/{id}`: GetStreamResponse JSON.
 * - `POST /v1/streams/{id}:input`: body a SendInputRequest in canonical
 *   JSON (`{"inputId":"…","text":"yes"}`; `Content-Type: application/json`,
 *   else 415; the stream id comes from the path); answers
 *   SendInputResponse JSON (`{"inputId":"…"}`). Errors as SendInput's:
 *   404, 400 (INVALID_ARGUMENT, or FAILED_PRECONDITION with the header
 *   `airwave-reason: STREAM_ENDED | INPUT_NOT_PENDING`).
 *
 * Errors before a stream starts: {@link writeError} (the Connect JSON error;
 * 405 with `Allow` for a wrong method, 415 for a wrong content type, 404
 * for an unknown path). Returns false for paths outside `/v1/`.
 */
export function createStreamRoutes(hub: Hub, o: StreamRoutesOptions) {
  return async function handle(req: Req, res: Res): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (path !== "/v1" && !path.startsWith("/v1/")) return false;
    let m: RegExpExecArray | null;
    try {
      if (path === "/v1/streams") {
        allow(req, ["POST"]);
        checkContentLength(req, o.maxRequestBytes);
        const owner = ownerOf(o.auth, req);
        const mode = pickMode(req, url);
        const body = await readBody(req, o.maxRequestBytes);
        const createReq = parseCreate(req, body);
        const waitMs = mode === "poll" ? pollWait(url, o.longPollMaxWaitMs) : 0;
        const coalesceMs = coalesceParam(url) ?? createReq.coalesceMs; // hub.create refuses a bad body value
        const streamId = await hub.create(owner, createReq, { transport: transportOf(mode), trace: req.headers });
        await deliver(res, mode, streamId, "", waitMs, (signal) =>
          hub.watch(owner, streamId, "", signal, { coalesceMs, transport: transportOf(mode), trace: req.headers }),
        );
      } else if ((m = eventsPath.exec(path))) {
        allow(req, ["GET"]);
        const owner = ownerOf(o.auth, req);
        const streamId = m[1] as string;
        const mode = pickMode(req, url);
        const waitMs = mode === "poll" ? pollWait(url, o.longPollMaxWaitMs) : 0;
        // A native EventSource keeps its `?after=` URL for life and sends
        // newer positions only as Last-Event-ID: the later one wins.
        const cursor = laterCursor(url.searchParams.get("after") ?? undefined, header(req, "last-event-id"));
        const agentIds = url.searchParams.getAll("agent");
        const coalesceMs = coalesceParam(url);
        if (mode === "sse" && cursor !== "" && isExhausted(await hub.get(owner, streamId), parseCursor(cursor))) {
          // Nothing will ever follow this cursor: 204 tells EventSource to
          // stop reconnecting (WHATWG HTML §9.2.3).
          res.writeHead(204).end();
          return true;
        }
        await deliver(res, mode, streamId, cursor, waitMs, (signal) =>
          hub.watch(owner, streamId, cursor, signal, { agentIds, coalesceMs, transport: transportOf(mode), trace: req.headers }),
        );
      } else if ((m = cancelPath.exec(path))) {
        allow(req, ["POST"]);
        await cancel(req, res, m[1] as string);
      } else if ((m = inputPath.exec(path))) {
        allow(req, ["POST"]);
        checkContentLength(req, o.maxRequestBytes);
        const owner = ownerOf(o.auth, req);
        const body = await readBody(req, o.maxRequestBytes);
        await hub.get(owner, m[1] as string); // a foreign or unknown stream is NOT_FOUND before any other error
        const input = parseInput(req, body, m[1] as string);
        const inputId = await hub.sendInput(owner, input);
        json(res, toJson(SendInputResponseSchema, { $typeName: "airwave.v1.SendInputResponse", inputId }));
      } else if ((m = streamPath.exec(path))) {
        allow(req, ["GET", "DELETE"]);
        if (req.method === "DELETE") {
          await cancel(req, res, m[1] as string);
        } else {
          const info = await hub.get(ownerOf(o.auth, req), m[1] as string);
          json(res, toJson(GetStreamResponseSchema, { $typeName: "airwave.v1.GetStreamResponse", stream: info }));
        }
      } else {
        throw new ConnectError(`no route for ${path.slice(0, 200)}`, Code.NotFound);
      }
    } catch (err) {
      answerRouteError(req, res, err, { onError: o.onError });
    }
    return true;
  };

  /**
   * Cancels for POST :cancel and DELETE. The body, if any, is read (up to
   * the size limit) and ignored: navigator.sendBeacon sends text/plain, a
   * Blob's type, or nothing.
   */
  async function cancel(req: Req, res: Res, streamId: string): Promise<void> {
    checkContentLength(req, o.maxRequestBytes);
    const owner = ownerOf(o.auth, req);
    await readBody(req, o.maxRequestBytes);
    const info = await hub.cancel(owner, streamId, "client");
    json(res, toJson(CancelStreamResponseSchema, { $typeName: "airwave.v1.CancelStreamResponse", stream: info }));
  }

  /**
   * Serves a watch in `mode`. SSE and NDJSON pull the first event before
   * committing to 200, so NOT_FOUND, OUT_OF_RANGE and INVALID_ARGUMENT are
   * HTTP errors, not a broken stream; the first event is already in the log
   * (`started`, or the `resumed` result), so the headers still go out before
   * the first token.
   */
  async function deliver(
    res: Res,
    mode: Mode,
    streamId: string,
    cursor: string,
    waitMs: number,
    watch: (signal: AbortSignal) => AsyncGenerator<StreamEvent>,
  ): Promise<void> {
    if (mode === "poll") {
      const stop = leaving(res);
      const batch = await collectBatch(watch(stop.signal), cursor, waitMs, stop);
      json(res, batchJson(streamId, batch), true);
      return;
    }
    const metrics = hub.metrics && { metrics: hub.metrics, transport: transportOf(mode) };
    await serveWatch(res, watch, mode === "ndjson" ? ndjsonEncoder : sseEncoder, { ...o, metrics });
  }
}

/**
 * The delivery mode: `?mode=sse|ndjson|poll`, else `?wait_ms=` means poll,
 * else by `Accept`: `text/event-stream` SSE, `application/x-ndjson` (or
 * `application/ndjson`, `application/jsonl`) NDJSON, `application/json`
 * poll; anything else SSE. Raises INVALID_ARGUMENT for another `mode`.
 */
function pickMode(req: Req, url: URL): Mode {
  const mode = url.searchParams.get("mode");
  if (mode !== null) {
    if (mode === "sse" || mode === "ndjson" || mode === "poll") return mode;
    throw new ConnectError(`mode must be sse, ndjson or poll, got "${mode.slice(0, 40)}"`, Code.InvalidArgument);
  }
  if (url.searchParams.has("wait_ms")) return "poll";
  const types = new Set((header(req, "accept") ?? "").split(",").map((t) => (t.split(";")[0] ?? "").trim().toLowerCase()));
  if (types.has("text/event-stream")) return "sse";
  if (types.has("application/x-ndjson") || types.has("application/ndjson") || types.has("application/jsonl")) return "ndjson";
  if (types.has("application/json")) return "poll";
  return "sse";
}

/** `?wait_ms=`, capped at `max`; absent means `max`. Raises INVALID_ARGUMENT when not a non-negative integer. */
function pollWait(url: URL, max: number): number {
  const raw = url.searchParams.get("wait_ms");
  if (raw === null) return max;
  if (!/^\d{1,10}$/.test(raw))
    throw new ConnectError(`wait_ms must be a non-negative integer (ms), got "${raw.slice(0, 40)}"`, Code.InvalidArgument);
  return Math.min(Number(raw), max);
}

/**
 * `?coalesce_ms=`: undefined when absent; INVALID_ARGUMENT when not a whole
 * number of milliseconds (the range is the hub's: {@link coalesceInterval}).
 */
function coalesceParam(url: URL): number | undefined {
  const raw = url.searchParams.get("coalesce_ms");
  if (raw === null) return undefined;
  if (!/^\d{1,10}$/.test(raw)) {
    throw new ConnectError(
      `coalesce_ms must be a whole number of milliseconds (0 to 5000), got "${raw.slice(0, 40)}"`,
      Code.InvalidArgument,
    );
  }
  return coalesceInterval(Number(raw));
}

function parseCreate(req: Req, body: string) {
  requireJsonBody(req);
  try {
    return fromJsonString(CreateStreamRequestSchema, body);
  } catch (e) {
    throw new ConnectError(`malformed CreateStreamRequest JSON: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
}

/**
 * Parses the body of `POST /v1/streams/{id}:input`. The stream id is the
 * path's; a body `streamId` must be absent or the same. Raises 415 for a
 * non-JSON body, INVALID_ARGUMENT for malformed JSON or another stream id.
 */
function parseInput(req: Req, body: string, streamId: string) {
  requireJsonBody(req);
  let input: SendInputRequest;
  try {
    input = fromJsonString(SendInputRequestSchema, body);
  } catch (e) {
    throw new ConnectError(`malformed SendInputRequest JSON: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
  if (input.streamId !== "" && input.streamId !== streamId) {
    throw new ConnectError("streamId: the body names another stream than the path", Code.InvalidArgument);
  }
  input.streamId = streamId;
  return input;
}

/** The `transport` label of a delivery mode. */
function transportOf(mode: Mode): Transport {
  return mode === "poll" ? "long_poll" : mode;
}
