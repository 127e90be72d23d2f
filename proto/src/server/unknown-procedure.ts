import type { IncomingHttpHeaders } from "node:http";
import { encodeGrpcMessage } from "./grpc-message.js";

/** What is used of a Node request (http or http2 compatibility API). */
interface Req {
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  resume(): unknown;
}

/** What is used of a Node response (http or http2 compatibility API). */
interface Res {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(): unknown;
  /** HTTP/2 only: the stream under the compatibility API. */
  readonly stream?: { respond(headers: Record<string, string | number>, o: { endStream: boolean }): void };
}

/** The gRPC status UNIMPLEMENTED (`grpc-status: 12`). */
const unimplemented = "12";

/**
 * True when `req` is a gRPC or gRPC-Web call (its `Content-Type` is
 * `application/grpc…` or `application/grpc-web…`): the requests whose
 * clients read their status from `grpc-status`, never from the HTTP status.
 */
function isGrpcRequest(req: Req): boolean {
  return /^application\/grpc(?:-web(?:-text)?)?(?:[+;]|$)/i.test(String(req.headers["content-type"] ?? ""));
}

/**
 * Answers a gRPC or gRPC-Web call to a service or method this server does
 * not have the way gRPC servers do: HTTP 200, the request's own gRPC
 * content type, and a trailers-only response with `grpc-status: 12`
 * (UNIMPLEMENTED) and `grpc-message: unknown procedure /<service>/<method>`
 * (gRPC-Web carries them as headers, its form of trailers-only). Returns
 * false, writing nothing, for any other request: Connect and plain HTTP
 * calls get the server's own 404.
 *
 * @see https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#responses
 * @see https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md
 */
export function answerUnknownGrpcProcedure(req: Req, res: Res): boolean {
  if (!isGrpcRequest(req)) return false;
  const path = (req.url ?? "/").split("?")[0]?.slice(0, 200) ?? "/";
  const type = String(req.headers["content-type"]);
  const grpcWeb = /^application\/grpc-web/i.test(type);
  // The body is not read: drain it so an HTTP/1.1 connection stays usable.
  req.resume();
  const headers = {
    "content-type": grpcWeb ? type : "application/grpc",
    "grpc-status": unimplemented,
    "grpc-message": encodeGrpcMessage(`unknown procedure ${path}`),
  };
  // Trailers-only is one HEADERS frame that ends the stream; writeHead and
  // end would add an empty DATA frame, after which gRPC clients wait for
  // trailers (grpc-js then reports INTERNAL).
  if (res.stream) res.stream.respond({ ":status": 200, ...headers }, { endStream: true });
  else {
    res.writeHead(200, headers);
    res.end();
  }
  return true;
}
