import { Code } from "@connectrpc/connect";

/**
 * The WebSocket close codes the gateway sends on `/v1/ws` (RFC 6455 §7.4.1;
 * 1012 and 1013 are registered in the IANA "WebSocket Close Code Number
 * Registry"). Failures of one message or one watch are WsError messages
 * (Connect codes) and leave the socket open; only these end the socket.
 * Documented for clients in docs/websocket.md.
 */
export const wsClose = {
  /** 1000: normal closure (the client closed, or the server after answering its close). */
  normal: 1000,
  /** 1003: a frame of the wrong kind (binary on `airwave.v1.json`, text on `airwave.v1.proto`). */
  unsupportedData: 1003,
  /** 1008: policy violation: missing, late or wrong authentication. Not retryable as is. */
  policy: 1008,
  /** 1009: a client message larger than AIRWAVE_WS_MAX_MESSAGE_BYTES (sent by `ws` itself). */
  tooBig: 1009,
  /** 1011: an unexpected server error; reconnect and resume. */
  internal: 1011,
  /** 1012: the gateway restarts (shutdown); reconnect (to another replica) and resume. */
  restart: 1012,
  /** 1013: the gateway holds its maximum number of sockets; reconnect later with backoff. */
  tryLater: 1013,
} as const;

/**
 * The close code for an error that ends a whole socket, for the few Codes
 * that do: UNAUTHENTICATED and PERMISSION_DENIED → 1008, RESOURCE_EXHAUSTED
 * → 1013, UNAVAILABLE → 1012; anything else → 1011. Errors of one message or
 * one watch are never mapped here: they are WsError messages.
 */
export function closeCodeOf(code: Code): number {
  switch (code) {
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return wsClose.policy;
    case Code.ResourceExhausted:
      return wsClose.tryLater;
    case Code.Unavailable:
      return wsClose.restart;
    default:
      return wsClose.internal;
  }
}

/**
 * A close reason cut to the 123 bytes a close frame allows (RFC 6455 §5.5:
 * control frame payload ≤ 125 bytes, 2 of them the code), on a character
 * boundary.
 */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= 123) return text;
  let out = bytes.subarray(0, 123).toString("utf8");
  // A cut inside a multi-byte character decodes to U+FFFD (3 bytes): drop it.
  while (Buffer.byteLength(out) > 123 || out.endsWith("\uFFFD")) out = out.slice(0, -1);
  return out;
}
