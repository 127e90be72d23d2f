import type { ServerResponse } from "node:http";
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { errorJson } from "./encoder.js";
import { publicError } from "./serve-stream.js";

/**
 * Ends a response that has not started with an error: the HTTP status from
 * Connect's Code table (https://connectrpc.com/docs/protocol#error-codes) and
 * the Connect JSON error body `{"code":"not_found","message":"…"}`: one error
 * format for the HTTP routes and the Connect protocol.
 */
export function writeError(res: ServerResponse, err: ConnectError): void {
  const e = publicError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorJson(e);
  res.writeHead(codeToHttpStatus(e.code), {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
