import type * as http from "node:http";
import type * as http2 from "node:http2";

/** The gRPC status message trailer. */
const headerGrpcMessage = "grpc-message";

/**
 * Percent-encodes a status message as the gRPC spec asks for `grpc-message`
 * (PROTOCOL-HTTP2.md: "Percent-Byte-Unencoded = 1*( %x20-%x24 / %x26-%x7E )",
 * everything else, `%` included, as `%XX` of its UTF-8 bytes): printable
 * ASCII other than `%` stays as it is.
 *
 * connect-es encodes with `encodeURIComponent`, which also escapes
 * `/ : ; , ? = & + $ # @` etc. That is a legal encoding, but grpc-js
 * decodes with `decodeURI`, which leaves `%3A %2F %3B %2C …` as they are, so
 * a grpc-js client (the gateway's hop from the inference service, and any
 * grpc-js client of the gateway) would see `(HTTP 400)%3A …`. This encoding
 * is decoded exactly by both `decodeURI` and `decodeURIComponent`.
 *
 * @see https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#responses
 */
export function encodeGrpcMessage(text: string): string {
  let out = "";
  let plainFrom = 0;
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) continue;
    out += `${bytes.toString("latin1", plainFrom, i)}%${b < 16 ? "0" : ""}${b.toString(16).toUpperCase()}`;
    plainFrom = i + 1;
  }
  return out + bytes.toString("latin1", plainFrom);
}

/**
 * Re-encodes a `grpc-message` value written by connect-es
 * (`encodeURIComponent`) with {@link encodeGrpcMessage}. A value that does
 * not decode (not written by connect-es) is returned as it is.
 */
export function reencodeGrpcMessage(value: string): string {
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    return value;
  }
  return encodeGrpcMessage(text);
}

/** A node:http / node:http2 request handler, as `connectNodeAdapter` returns. */
export type NodeHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * Wraps a connect-node handler so that the `grpc-message` trailer of its gRPC
 * responses is encoded as the gRPC spec asks ({@link reencodeGrpcMessage}),
 * not with `encodeURIComponent`. Everything else passes through unchanged;
 * gRPC-Web (trailers in the body) and Connect (JSON) responses are not
 * affected (their clients decode with `decodeURIComponent`).
 */
export function withSpecGrpcMessage<H extends NodeHandler>(handler: H): H {
  const wrapped = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const addTrailers = res.addTrailers.bind(res) as (headers: http.OutgoingHttpHeaders) => void;
    res.addTrailers = (headers: http.OutgoingHttpHeaders) => {
      const m = headers[headerGrpcMessage];
      addTrailers(typeof m === "string" ? { ...headers, [headerGrpcMessage]: reencodeGrpcMessage(m) } : headers);
    };
    handler(req, res);
  };
  return wrapped as H;
}
