import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CancelStreamResponseSchema, type StreamInfo, StreamState } from "@airwave/proto";
import type { Authenticator } from "../auth/authenticator.js";
import { writeError } from "../errors/write-error.js";
import { readBody } from "../http/read-body.js";
import type { Hub } from "../hub/hub.js";
import { streamIdHeader } from "../openai/openai-routes.js";
import { ChatStreams, type ChatTurnStore } from "./chat-streams.js";
import { uiMessageChunkEncoder, uiMessageStreamHeader } from "./ui-message-chunks.js";
import { isChatId, toChatTurnRequest } from "./ui-messages-request.js";
import { allow, answerRouteError, header, json, ownerOf, readJsonBody, serveWatch } from "../http/route-kit.js";

type Req = IncomingMessage;
type Res = ServerResponse;

/** Options of the AI SDK routes; see GatewayConfig for units (ms, bytes). */
export interface AiSdkRoutesOptions {
  heartbeatIdleMs: number;
  writeTimeoutMs: number;
  maxRequestBytes: number;
  /** How many chats' latest streams are remembered for reconnects (the gateway passes AIRWAVE_MAX_STREAMS). */
  maxStreams: number;
  /** Decides the caller's owner: the same authenticator as every other route. */
  auth: Authenticator;
  /** Where chats' latest turns are kept; default: this process ({@link ChatStreams}), with several replicas the cluster's. */
  chats?: ChatTurnStore;
  onError?: (err: ConnectError) => void;
}

/** The `api` to give the AI SDK's `DefaultChatTransport`: `<gateway>/v1/ai-sdk/chat`. */
export const aiSdkChatPath = "/v1/ai-sdk/chat";

const chatSegment = "([^/]+)";
const reconnectPath = new RegExp(`^${aiSdkChatPath}/${chatSegment}/stream$`);
const stopPath = new RegExp(`^${aiSdkChatPath}/${chatSegment}/stop$`);

/**
 * The AI SDK UI egress (README "Using the AI SDK's useChat?"): the routes
 * `DefaultChatTransport` (and so `useChat`) calls unchanged, with `api` set
 * to `<gateway>/v1/ai-sdk/chat`, speaking the UI message stream protocol
 * (ai-sdk.dev "Stream Protocols"; header `x-vercel-ai-ui-message-stream:
 * v1`, {@link uiMessageChunkEncoder}) over the hub. Every path under
 * {@link aiSdkChatPath}; returns false for any other.
 *
 * - `POST /v1/ai-sdk/chat`: the transport's body (`{id, messages, trigger,
 *   messageId, ...body}`, `Content-Type: application/json`, else 415),
 *   mapped by {@link toChatTurnRequest} (the options of the transport's
 *   `body` are a Chat Completions request: `model` is required) and created
 *   with `Hub.create`; answers the turn's UI message stream. The turn
 *   becomes the chat's latest ({@link ChatStreams}). Request headers
 *   `Airwave-On-Detach` (default `cancel_after_grace`, see
 *   `aiSdkDefaultOnDetach`) and `Airwave-Stream-Id`, as on the
 *   OpenAI-compatible route.
 * - `GET /v1/ai-sdk/chat/{chatId}/stream` (`reconnectToStream`, `resume:
 *   true`): while the chat's latest stream runs, its whole turn again from
 *   the log, from its first event (the AI SDK rebuilds the message from the
 *   replay: `DefaultChatTransport`'s `resumeStreamIsReplay`, on by default),
 *   then live to its end. `204 No Content` when there is nothing to resume,
 *   the resumable-stream convention of ai-sdk.dev "Chatbot Resume Streams"
 *   (the active stream id is cleared when the stream finishes): an unknown
 *   chat, another owner's chat, a chat whose latest stream ended
 *   (completed, failed or cancelled) or expired. `?include_ended=true`
 *   replays the latest turn also after its end, while the log keeps it
 *   (AIRWAVE_STREAM_TTL_MS), for a client that lost the connection and
 *   came back after the answer finished (set it with
 *   `prepareReconnectToStreamRequest`).
 * - `POST /v1/ai-sdk/chat/{chatId}/stop` (any body or none; the body the
 *   AI SDK docs' stop example sends is read and ignored): cancels the
 *   chat's latest stream at once (`Hub.cancel`: the upstream request is
 *   aborted), idempotent; answers CancelStreamResponse JSON (`{}` when the
 *   chat has no stream). `useChat`'s `stop()` only closes the connection;
 *   call this beside it for a stop that reaches the model at once.
 *
 * Every stream response carries the stream's id in `airwave-stream-id`:
 * the stream is also watched, cancelled and resumed by the `/v1/streams`
 * routes and StreamService. Owners as everywhere (README "Owners").
 *
 * Errors before a response started: {@link writeError}, the Connect JSON
 * error with the gateway's HTTP status (400 for a malformed body, 401, 404
 * for an unknown model, 429 with `Retry-After`, …), which the AI SDK raises
 * as an `APICallError` whose `message` is that body. After: an `error`
 * chunk.
 */
export function createAiSdkRoutes(hub: Hub, o: AiSdkRoutesOptions) {
  const chats: ChatTurnStore = o.chats ?? new ChatStreams(o.maxStreams);
  return async function handle(req: Req, res: Res): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (path !== aiSdkChatPath && !path.startsWith(`${aiSdkChatPath}/`)) return false;
    let m: RegExpExecArray | null;
    try {
      if (path === aiSdkChatPath) {
        allow(req, ["POST"]);
        await createTurn(req, res);
      } else if ((m = reconnectPath.exec(path))) {
        allow(req, ["GET"]);
        await reconnect(req, res, chatIdOf(m[1] as string), url.searchParams.get("include_ended") === "true");
      } else if ((m = stopPath.exec(path))) {
        allow(req, ["POST"]);
        const owner = ownerOf(o.auth, req);
        const chatId = chatIdOf(m[1] as string);
        await readBody(req, o.maxRequestBytes);
        const info = await stopChat(owner, chatId);
        json(res, toJson(CancelStreamResponseSchema, { $typeName: "airwave.v1.CancelStreamResponse", stream: info }));
      } else {
        throw new ConnectError(`no route for ${path.slice(0, 200)}`, Code.NotFound);
      }
    } catch (err) {
      answerRouteError(req, res, err, { onError: o.onError });
    }
    return true;
  };

  /** `POST /v1/ai-sdk/chat`: a new turn of the chat. */
  async function createTurn(req: Req, res: Res): Promise<void> {
    const owner = ownerOf(o.auth, req);
    const body = await readJsonBody(req, o.maxRequestBytes);
    const turn = toChatTurnRequest(body, { onDetach: header(req, "airwave-on-detach"), streamId: header(req, "airwave-stream-id") });
    const streamId = await hub.create(owner, turn.create, { transport: "ai_sdk", trace: req.headers });
    const messageId = turn.continuesMessageId ?? `msg-${streamId}`;
    await chats.set(owner, turn.chatId, { streamId, messageId });
    await serveTurn(res, owner, streamId, messageId);
  }

  /** `GET /v1/ai-sdk/chat/{chatId}/stream`: the running turn from its start, or 204. */
  async function reconnect(req: Req, res: Res, chatId: string, includeEnded: boolean): Promise<void> {
    const owner = ownerOf(o.auth, req);
    const turn = await chats.get(owner, chatId);
    const info = turn === undefined ? undefined : await held(owner, chatId, turn.streamId);
    if (turn === undefined || info === undefined || (info.state !== StreamState.RUNNING && !includeEnded)) {
      res.writeHead(204, { "cache-control": "no-store" }).end();
      return;
    }
    await serveTurn(res, owner, turn.streamId, turn.messageId);
  }

  /** Cancels the chat's latest stream; its info, or undefined when the chat has none. */
  async function stopChat(owner: string, chatId: string): Promise<StreamInfo | undefined> {
    const turn = await chats.get(owner, chatId);
    if (turn === undefined || (await held(owner, chatId, turn.streamId)) === undefined) return undefined;
    return hub.cancel(owner, turn.streamId, "client");
  }

  /** The stream's info while the hub holds it; otherwise forgets the chat's entry. */
  async function held(owner: string, chatId: string, streamId: string): Promise<StreamInfo | undefined> {
    try {
      return await hub.get(owner, streamId);
    } catch (e) {
      if (ConnectError.from(e).code !== Code.NotFound) throw e;
      await chats.forget(owner, chatId, streamId);
      return undefined;
    }
  }

  /**
   * Serves a turn's UI message stream from the stream's first event: pulls
   * the first event before committing to 200 (so NOT_FOUND is an HTTP
   * error, not a broken stream), flushes the headers at once, then the one
   * serve loop with its heartbeats. The client closing the connection ends
   * the watch; the generation goes on as its detach policy says.
   */
  async function serveTurn(res: Res, owner: string, streamId: string, messageId: string): Promise<void> {
    await serveWatch(
      res,
      (signal) => hub.watch(owner, streamId, "", signal, { transport: "ai_sdk" }),
      uiMessageChunkEncoder({ messageId }),
      {
        ...o,
        metrics: hub.metrics && { metrics: hub.metrics, transport: "ai_sdk" },
        headers: { ...uiMessageStreamHeader, [streamIdHeader]: streamId },
      },
    );
  }
}

/** The chat id of a path segment (percent-decoded, as `reconnectToStream` encodes it). Raises INVALID_ARGUMENT. */
function chatIdOf(segment: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw new ConnectError("the chat id in the path is not valid percent-encoding", Code.InvalidArgument);
  }
  if (!isChatId(id)) throw new ConnectError("the chat id must be 1 to 256 characters, no control characters or '/'", Code.InvalidArgument);
  return id;
}
