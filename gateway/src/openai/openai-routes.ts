import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { laterCursor, parseCursor, type StreamEvent } from "@airwave/proto";
import type { Authenticator } from "../auth/authenticator.js";
import { openaiErrorResponse, withOpenAIParam } from "../errors/openai-error.js";
import { readBody } from "../http/read-body.js";
import type { Hub } from "../hub/hub.js";
import { chatCompletionOf } from "./chat-completion.js";
import {
  type ChunkEncoderOptions,
  chatCompletionChunkEncoder,
  completionHeaderOf,
  streamIdOfCompletion,
} from "./chat-completion-chunks.js";
import { openaiParamOf, toCreateStreamRequest } from "./to-create-stream-request.js";
import { allow, answerRouteError, header, isExhausted, json, leaving, ownerOf, readJsonBody, serveWatch } from "../http/route-kit.js";

type Req = IncomingMessage;
type Res = ServerResponse;

/** Options of the OpenAI-compatible routes; see GatewayConfig for units (ms, bytes). */
export interface OpenAIRoutesOptions {
  heartbeatIdleMs: number;
  writeTimeoutMs: number;
  maxRequestBytes: number;
  /** Decides the caller's owner: the same authenticator as every other route (`Authorization: Bearer <key>`). */
  auth: Authenticator;
  onError?: (err: ConnectError) => void;
}

/**
 * The models `GET /v1/models` lists: the simulator's, which every inference
 * service serves (`simulator` and `simulator/default` paced by
 * AIRWAVE_SIM_*, `fast` unpaced, `slow`, `agent`). The contract has no call
 * that lists an inference service's configured providers, so their models
 * (`openai-compatible/gpt-4o-mini`, aliases, …) are not listed, yet
 * `POST /v1/chat/completions` takes them by name like every other route.
 */
export const listedModels = ["simulator", "simulator/default", "simulator/fast", "simulator/slow", "simulator/agent"] as const;

/** The response header naming the stream behind a completion (also on errors once the stream exists). */
export const streamIdHeader = "airwave-stream-id";

const completionId = "((?:chatcmpl-)?[A-Za-z0-9_-]{1,128})";
const completionPath = new RegExp(`^/v1/chat/completions/${completionId}$`);
const cancelPath = new RegExp(`^/v1/chat/completions/${completionId}/cancel$`);
const modelPath = /^\/v1\/models\/(.+)$/;

/**
 * OpenAI-compatible egress (README "Already using the OpenAI SDK?"): the
 * Chat Completions API over the hub, so the OpenAI SDKs, the AI SDK's
 * `@ai-sdk/openai-compatible` and any OpenAI-compatible client work with
 * `baseURL` set to `<gateway>/v1`. Every path under `/v1/chat/` and
 * `/v1/models`; returns false for any other path.
 *
 * - `POST /v1/chat/completions`: body a Chat Completions request
 *   (`Content-Type: application/json`, else 415), mapped by
 *   {@link toCreateStreamRequest} and created with `Hub.create`. `stream:
 *   true` answers SSE chunks ({@link chatCompletionChunkEncoder}, served by
 *   the one serve loop with heartbeats), otherwise one `chat.completion`
 *   ({@link chatCompletionOf}). Request headers `Airwave-On-Detach`
 *   (`cancel`, the default: closing the connection cancels the generation
 *   at once; `cancel_after_grace`; `continue`) and `Airwave-Stream-Id` (a
 *   client-chosen id: an idempotent create).
 * - `GET /v1/chat/completions/{id}` (`id` the completion id
 *   `chatcmpl-<stream id>` or the bare stream id): with `Accept:
 *   text/event-stream` or `?stream=true`, the chunks again, after
 *   `Last-Event-ID` or `?after=<cursor>` (both: the later, `laterCursor`), exactly those
 *   the first response wrote after that position; `?include_usage=true`
 *   adds the usage chunk; 204 when nothing follows the cursor of an ended
 *   stream. Otherwise the `chat.completion` (once the stream ended: the
 *   OpenAI SDK's `chat.completions.retrieve`).
 * - `POST /v1/chat/completions/{id}/cancel` (any body or none): cancels
 *   the generation (`Hub.cancel`: the upstream request is aborted at once;
 *   idempotent) and answers the `chat.completion` as it ended.
 * - `GET /v1/models`: `{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`
 *   of {@link listedModels}; `GET /v1/models/{model}` one of them.
 *
 * Every response of a stream carries its id in {@link streamIdHeader}. The
 * caller's owner is the authenticator's (an API key's name, the browser
 * cookie, or the anonymous owner): a stream created here is also watched,
 * cancelled and resumed by the `/v1/streams` routes and StreamService.
 *
 * Errors before a response started are OpenAI's error shape with the
 * gateway's HTTP status (`openaiErrorResponse`: 400 with `param` for a
 * request the contract cannot carry, 401 `invalid_api_key`, 404
 * `model_not_found` for an unknown model, 429 with `Retry-After`, …);
 * after, `data: {"error":{…}}`.
 */
export function createOpenAIRoutes(hub: Hub, o: OpenAIRoutesOptions) {
  const openai = { transport: "openai" } as const; // the watch options of these routes
  const listedAt = Math.floor(Date.now() / 1000);
  return async function handle(req: Req, res: Res): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (!path.startsWith("/v1/chat/") && path !== "/v1/models" && !path.startsWith("/v1/models/")) return false;
    let m: RegExpExecArray | null;
    try {
      if (path === "/v1/chat/completions") {
        allow(req, ["POST"]);
        await createCompletion(req, res);
      } else if ((m = cancelPath.exec(path))) {
        allow(req, ["POST"]);
        const owner = ownerOf(o.auth, req);
        await readBody(req, o.maxRequestBytes);
        const streamId = streamIdOfCompletion(m[1] as string);
        await hub.cancel(owner, streamId, "client");
        await answerCompletion(res, owner, streamId);
      } else if ((m = completionPath.exec(path))) {
        allow(req, ["GET"]);
        await retrieve(req, res, url, streamIdOfCompletion(m[1] as string));
      } else if (path === "/v1/models") {
        allow(req, ["GET"]);
        ownerOf(o.auth, req);
        json(res, { object: "list", data: listedModels.map((id) => modelJson(id, listedAt)) });
      } else if ((m = modelPath.exec(path))) {
        allow(req, ["GET"]);
        ownerOf(o.auth, req);
        const id = decodedSegment(m[1] as string);
        if (!(listedModels as readonly string[]).includes(id)) {
          throw withOpenAIParam(
            new ConnectError(`The model ${JSON.stringify(id.slice(0, 128))} is not listed`, Code.NotFound),
            "model",
            "model_not_found",
          );
        }
        json(res, modelJson(id, listedAt));
      } else {
        throw new ConnectError(`no route for ${path.slice(0, 200)}`, Code.NotFound);
      }
    } catch (err) {
      answerRouteError(req, res, err, { onError: o.onError, shape: openaiErrorResponse });
    }
    return true;
  };

  /** `POST /v1/chat/completions`. */
  async function createCompletion(req: Req, res: Res): Promise<void> {
    const owner = ownerOf(o.auth, req);
    const body = await readJsonBody(req, o.maxRequestBytes);
    const p = toCreateStreamRequest(body, { onDetach: header(req, "airwave-on-detach"), streamId: header(req, "airwave-stream-id") });
    let streamId: string;
    try {
      streamId = await hub.create(owner, p.create, { ...openai, trace: req.headers });
    } catch (err) {
      throw refusal(ConnectError.from(err));
    }
    if (!p.stream) {
      await answerCompletion(res, owner, streamId);
      return;
    }
    const h = completionHeaderOf(await hub.get(owner, streamId));
    await streamChunks(res, streamId, (signal) => hub.watch(owner, streamId, "", signal, { ...openai, trace: req.headers }), {
      ...h,
      includeUsage: p.includeUsage,
    });
  }

  /** `GET /v1/chat/completions/{id}`: the chunks after a cursor, or the completion. */
  async function retrieve(req: Req, res: Res, url: URL, streamId: string): Promise<void> {
    const owner = ownerOf(o.auth, req);
    const info = await hub.get(owner, streamId);
    const accept = (header(req, "accept") ?? "").toLowerCase();
    if (url.searchParams.get("stream") !== "true" && !accept.includes("text/event-stream")) {
      await answerCompletion(res, owner, streamId);
      return;
    }
    const text = laterCursor(url.searchParams.get("after") ?? undefined, header(req, "last-event-id"));
    const after = text === "" ? undefined : parseCursor(text);
    if (after !== undefined && isExhausted(info, after)) {
      // Nothing follows: 204 also tells an EventSource to stop reconnecting (WHATWG HTML §9.2.3).
      res.writeHead(204, { [streamIdHeader]: streamId }).end();
      return;
    }
    const includeUsage = url.searchParams.get("include_usage") === "true";
    await streamChunks(res, streamId, (signal) => hub.watch(owner, streamId, "", signal, { ...openai, trace: req.headers }), {
      ...completionHeaderOf(info),
      includeUsage,
      after,
    });
  }

  /**
   * Serves a stream's chunks: pulls the first event before committing to
   * 200 (so NOT_FOUND is an HTTP error, not a broken stream), flushes the
   * headers at once, then the one serve loop. The client closing the
   * connection ends the watch; the generation then goes on as its detach
   * policy says.
   */
  async function streamChunks(
    res: Res,
    streamId: string,
    watch: (signal: AbortSignal) => AsyncGenerator<StreamEvent>,
    enc: ChunkEncoderOptions,
  ): Promise<void> {
    await serveWatch(res, watch, chatCompletionChunkEncoder(enc), {
      ...o,
      metrics: hub.metrics && { metrics: hub.metrics, transport: "openai" },
      headers: { [streamIdHeader]: streamId },
    });
  }

  /** Answers the stream's `chat.completion` once it ended (its failure as an OpenAI error, with the stream id header). */
  async function answerCompletion(res: Res, owner: string, streamId: string): Promise<void> {
    res.setHeader(streamIdHeader, streamId);
    const stop = leaving(res);
    const completion = await chatCompletionOf(
      hub.watch(owner, streamId, "", stop.signal, openai),
      completionHeaderOf(await hub.get(owner, streamId)),
    );
    json(res, completion);
  }
}

/**
 * A create's refusal with its OpenAI `param`: an unknown model is
 * `model_not_found` on `model`; the contract validator's INVALID_ARGUMENT
 * names its field ({@link openaiParamOf}).
 */
function refusal(e: ConnectError): ConnectError {
  if (e.code === Code.NotFound) return withOpenAIParam(e, "model", "model_not_found");
  if (e.code === Code.InvalidArgument) return withOpenAIParam(e, openaiParamOf(e.rawMessage));
  return e;
}

/** A percent-decoded path segment; raises INVALID_ARGUMENT for malformed percent-encoding (not an internal error). */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ConnectError("the path is not valid percent-encoding", Code.InvalidArgument);
  }
}

function modelJson(id: string, created: number) {
  return { id, object: "model", created, owned_by: id.split("/")[0] ?? id };
}
