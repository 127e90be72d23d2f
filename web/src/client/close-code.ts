import { Code } from "@connectrpc/connect";
import { parseCodeName } from "./errors.js";

/**
 * Maps the close code of a WebSocket that closed while streams were live to
 * the Connect code their iterations raise (RFC 6455 §7.4.1 and the IANA
 * "WebSocket Close Code Number Registry"; the gateway's codes are in
 * docs/websocket.md):
 *
 * | Close code | Meaning | Code |
 * | --- | --- | --- |
 * | 1000, 1001, 1005, 1006, 1012, 1013, 1014, 1015 | closed, going away, no status, dropped, restart, try later, bad gateway, TLS | Unavailable (resumed) |
 * | 1008 | policy violation: missing, late or wrong authentication | PermissionDenied when the reason starts with `permission_denied`, else Unauthenticated |
 * | 1009 | message too big | ResourceExhausted |
 * | 1002, 1003, 1007, 1010, 1011 | protocol error, unsupported data, bad payload, extension, server error | Internal |
 * | anything else (e.g. 4000–4999) | | Unavailable |
 *
 * A browser cannot see why a handshake failed (a 403 for a wrong Origin
 * included): that is 1006, hence Unavailable, and the resume loop's retries
 * and fallback decide.
 *
 * @example
 * codeFromCloseCode(1013, "") // Code.Unavailable
 * codeFromCloseCode(1008, "authentication timed out: the first message must be auth") // Code.Unauthenticated
 */
export function codeFromCloseCode(closeCode: number, reason: string): Code {
  switch (closeCode) {
    case 1008:
      return parseCodeName(/^[a-z_]+/.exec(reason)?.[0] ?? "") === Code.PermissionDenied ? Code.PermissionDenied : Code.Unauthenticated;
    case 1009:
      return Code.ResourceExhausted;
    case 1002:
    case 1003:
    case 1007:
    case 1010:
    case 1011:
      return Code.Internal;
    default:
      return Code.Unavailable;
  }
}
