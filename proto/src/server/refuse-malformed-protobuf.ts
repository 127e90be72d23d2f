import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

/** The message of every refusal of a request message that is not valid Protobuf binary. */
export const malformedProtobufMessage = "the request message is not valid Protobuf binary";

/** The message of every refusal of an envelope flagged compressed (flag 0x01) when no encoding was negotiated. */
export const compressedEnvelopeMessage = "the request envelope is flagged compressed, but no encoding was negotiated";

/**
 * The caller-safe message for the errors connect-es raises, as
 * Code.Internal, when a request's bytes are not a message: its binary
 * parser's `parse binary: <the parser's text>` (`protocol/serialization.ts`)
 * is {@link malformedProtobufMessage}; an envelope flagged compressed
 * without a negotiated encoding (`protocol/envelope.ts`) is
 * {@link compressedEnvelopeMessage}. Both are the caller's fault, answered
 * as Code.InvalidArgument. Undefined for every other error.
 */
export function malformedRequestMessage(code: string, message: string): string | undefined {
  if (code !== "internal" && code !== "13") return undefined;
  if (message.startsWith("parse binary: ")) return malformedProtobufMessage;
  if (message === "received compressed envelope, but do not know how to decompress") return compressedEnvelopeMessage;
  return undefined;
}

/** The wire protocol of a request whose errors may need rewriting; undefined for Connect unary JSON (its errors are already right). */
type RewrittenProtocol = "connect-unary" | "connect-stream" | "grpc" | "grpc-web";

function rewrittenProtocol(req: UniversalServerRequest): RewrittenProtocol | undefined {
  const ct = (req.header.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (ct === "application/proto") return "connect-unary";
  if (ct.startsWith("application/connect+")) return "connect-stream";
  if (ct.startsWith("application/grpc-web")) return "grpc-web";
  if (ct.startsWith("application/grpc")) return "grpc";
  if (req.method === "GET" && new URL(req.url, "http://x").searchParams.get("encoding") === "proto") return "connect-unary";
  return undefined;
}

/**
 * Makes every handler of `router` answer a request message that is not
 * valid Protobuf binary (truncated, an illegal tag or wire type, a bad
 * length, garbage) with Code.InvalidArgument and the fixed message
 * {@link malformedProtobufMessage}, and an envelope flagged compressed
 * without a negotiated encoding (in any codec) with Code.InvalidArgument
 * and {@link compressedEnvelopeMessage}, on Connect (`application/proto`,
 * `application/connect+*`), gRPC and gRPC-Web, instead of connect-es's
 * Code.Internal with the parser's text (connect-es raises `parse binary: …`
 * as Internal, before any interceptor or implementation runs, so the
 * answer is rewritten on its way out: the Connect unary JSON error body
 * and HTTP status 400, the Connect end-stream message, the gRPC
 * `grpc-status`/`grpc-message` trailers, or the gRPC-Web trailer frame).
 * JSON requests are not touched. Call it after the services are registered,
 * inside `routes`.
 */
export function refuseMalformedProtobuf(router: ConnectRouter): void {
  const handlers = router.handlers;
  for (let i = 0; i < handlers.length; i++) {
    const h = handlers[i] as UniversalHandler;
    const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
      const protocol = rewrittenProtocol(req);
      const res = await h(req);
      return protocol ? rewrite(protocol, res) : res;
    };
    handlers[i] = Object.assign(wrapped, {
      service: h.service,
      method: h.method,
      requestPath: h.requestPath,
      supportedContentType: h.supportedContentType,
      protocolNames: h.protocolNames,
      allowedMethods: h.allowedMethods,
    }) as UniversalHandler;
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function rewrite(protocol: RewrittenProtocol, res: UniversalServerResponse): UniversalServerResponse | Promise<UniversalServerResponse> {
  switch (protocol) {
    case "connect-unary":
      return res.status === 500 && !res.header?.has("content-encoding") ? rewriteConnectUnary(res) : res;
    case "connect-stream":
      return { ...res, body: res.body && mapChunks(res.body, rewriteConnectEndStream) };
    case "grpc-web":
      return { ...res, body: res.body && mapChunks(res.body, rewriteGrpcWebTrailer) };
    case "grpc": {
      const trailer = res.trailer;
      if (!trailer) return res;
      if (!res.body) {
        rewriteGrpcTrailer(trailer);
        return res;
      }
      return {
        ...res,
        body: mapChunks(
          res.body,
          (c) => c,
          () => rewriteGrpcTrailer(trailer),
        ),
      };
    }
  }
}

async function rewriteConnectUnary(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  if (res.body) for await (const c of res.body) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  const error = parseJsonError(bytes);
  const message = error && malformedRequestMessage(error.code, error.message);
  if (!message) return { ...res, body: once(bytes) };
  const body = utf8.encode(JSON.stringify({ code: "invalid_argument", message }));
  const header = new Headers(res.header);
  header.set("content-length", String(body.byteLength));
  return { ...res, status: 400, header, body: once(body) };
}

/** A Connect end-stream envelope (flag 0x02, uncompressed) whose error is a parse failure, rewritten. */
function rewriteConnectEndStream(chunk: Uint8Array): Uint8Array {
  if (!isWholeEnvelope(chunk) || chunk[0] !== 0x02) return chunk;
  const end = parseJson(chunk.subarray(5)) as { error?: { code?: unknown; message?: unknown } } | undefined;
  const e = end?.error;
  const message = typeof e?.code === "string" && typeof e.message === "string" ? malformedRequestMessage(e.code, e.message) : undefined;
  if (!message) return chunk;
  return envelope(0x02, utf8.encode(JSON.stringify({ ...end, error: { code: "invalid_argument", message } })));
}

/** A gRPC-Web trailer frame (flag 0x80, uncompressed) with a parse failure's status, rewritten. */
function rewriteGrpcWebTrailer(chunk: Uint8Array): Uint8Array {
  if (!isWholeEnvelope(chunk) || chunk[0] !== 0x80) return chunk;
  const trailer = new Headers();
  for (const line of fromUtf8.decode(chunk.subarray(5)).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailer.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (!rewriteGrpcTrailer(trailer)) return chunk;
  let text = "";
  trailer.forEach((v, k) => {
    text += `${k}: ${v}\r\n`;
  });
  return envelope(0x80, utf8.encode(text));
}

/** Rewrites gRPC status trailers of a parse failure in place; true when it did. */
function rewriteGrpcTrailer(trailer: Headers): boolean {
  const status = trailer.get("grpc-status");
  let received: string;
  try {
    received = decodeURIComponent(trailer.get("grpc-message") ?? "");
  } catch {
    return false;
  }
  const message = status === null ? undefined : malformedRequestMessage(status, received);
  if (!message) return false;
  trailer.set("grpc-status", "3");
  trailer.set("grpc-message", encodeURIComponent(message));
  return true;
}

function parseJsonError(bytes: Uint8Array): { code: string; message: string } | undefined {
  const v = parseJson(bytes) as { code?: unknown; message?: unknown } | undefined;
  return typeof v?.code === "string" && typeof v.message === "string" ? { code: v.code, message: v.message } : undefined;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8.decode(bytes));
  } catch {
    return undefined;
  }
}

function isWholeEnvelope(chunk: Uint8Array): boolean {
  return chunk.byteLength >= 5 && new DataView(chunk.buffer, chunk.byteOffset, 5).getUint32(1) === chunk.byteLength - 5;
}

function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * `body` with each chunk passed through `f` (connect-es yields one whole
 * envelope per chunk), and `end` called once it is exhausted, before its
 * final `done` is returned. `return` and `throw` reach `body`'s iterator, so
 * a cancelled response still ends the handler.
 */
function mapChunks(
  body: AsyncIterable<Uint8Array>,
  f: (c: Uint8Array) => Uint8Array,
  end: () => void = () => {},
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          if (!r.done) return { done: false, value: f(r.value) };
          end();
          return r;
        },
        return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true, value: undefined }),
        throw: (e?: unknown) => it.throw?.(e) ?? Promise.reject(e),
      };
    },
  };
}
