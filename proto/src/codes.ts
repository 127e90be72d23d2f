import { Code as ConnectCode } from "@connectrpc/connect";
import { Code } from "../gen/airwave/v1/event_pb.js";

/**
 * Maps a Connect `Code` to the proto `airwave.v1.Code`. The numbers are the
 * same (both are gRPC's), so this is a checked cast.
 */
export function toProtoCode(code: ConnectCode): Code {
  return code as number as Code;
}

/**
 * Maps a proto `airwave.v1.Code` to a Connect `Code`;
 * `CODE_UNSPECIFIED` (not an error) maps to `Unknown`.
 */
export function fromProtoCode(code: Code): ConnectCode {
  return code === Code.UNSPECIFIED ? ConnectCode.Unknown : (code as number as ConnectCode);
}

/** Codes after which the same request may succeed when retried. */
export const retryableCodes: ReadonlySet<ConnectCode> = new Set([
  ConnectCode.Unavailable,
  ConnectCode.ResourceExhausted,
  ConnectCode.Aborted,
  ConnectCode.DeadlineExceeded,
]);
