import type { IncomingMessage } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";

/** RESOURCE_EXHAUSTED for a request body over `maxBytes` (HTTP 429, README "Errors"). */
function tooLarge(maxBytes: number): ConnectError {
  return new ConnectError(`request body larger than ${maxBytes} bytes`, Code.ResourceExhausted);
}

/**
 * Refuses a declared `Content-Length` over `maxBytes` before anything else
 * is read (RESOURCE_EXHAUSTED), so a route can refuse a large body before
 * its other checks.
 */
export function checkContentLength(req: IncomingMessage, maxBytes: number): void {
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) throw tooLarge(maxBytes);
}

/**
 * Reads a request body as UTF-8, up to `maxBytes` bytes. A declared
 * `Content-Length` over the limit is refused before reading; a body that
 * grows past it while read, too (RESOURCE_EXHAUSTED). Leaves the request
 * (and so the socket) open on refusal, so the error can still be answered
 * (with `Connection: close`: the unread rest must not be taken for the next
 * request). A body that breaks off is CANCELED.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  try {
    checkContentLength(req, maxBytes);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: ConnectError) => {
      req.off("data", onData).off("end", onEnd).off("close", onClose);
      if (err) {
        req.pause();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks).toString("utf8"));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onClose = () => done(new ConnectError("request body broke off", Code.Canceled));
    req.on("data", onData).on("end", onEnd).on("close", onClose);
  });
}
