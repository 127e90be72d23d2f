import { Code, ConnectError } from "@connectrpc/connect";

/** Metadata of an inference-service refusal that reaches the client: the reason and the retry hint (ms). */
const forwardedMetadata = ["airwave-reason", "retry-after-ms"] as const;

/**
 * The error a client sees when the inference service refused a request
 * before its first event (`Generation.accepted` rejects with it; the
 * caller scrubs its text of secrets):
 *
 * | upstream code | client sees |
 * |---|---|
 * | INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, PERMISSION_DENIED, OUT_OF_RANGE | the same code and message |
 * | ABORTED, UNAVAILABLE, DEADLINE_EXCEEDED | the same code; the service's message when it carries `airwave-reason`, else a generic text |
 * | anything else | INTERNAL "internal error" |
 *
 * `airwave-reason` and `retry-after-ms` pass on as metadata (except for
 * INTERNAL). The inference service marks the errors it wrote for clients
 * (the upstream provider's refusal, already made safe) with
 * `airwave-reason`; others (e.g. the connection to the service failed) get
 * a generic message: internals never leak. The original error is kept as
 * `cause` where the text is replaced, for logs.
 */
export function refusalForClient(e: ConnectError): ConnectError {
  const meta = new Headers();
  for (const k of forwardedMetadata) {
    const v = e.metadata.get(k);
    if (v !== null) meta.set(k, v);
  }
  const fromService = meta.has("airwave-reason");
  switch (e.code) {
    case Code.InvalidArgument:
    case Code.NotFound:
    case Code.ResourceExhausted:
    case Code.FailedPrecondition:
    case Code.PermissionDenied:
    case Code.OutOfRange:
      return new ConnectError(e.rawMessage, e.code, meta);
    case Code.Aborted:
      // An upstream conflict (HTTP 409, UPSTREAM_CONFLICT) is the service's own text.
      return new ConnectError(fromService ? e.rawMessage : "the inference call was aborted", Code.Aborted, meta, undefined, e);
    case Code.Unavailable:
      return new ConnectError(fromService ? e.rawMessage : "the inference service is unavailable", Code.Unavailable, meta, undefined, e);
    case Code.DeadlineExceeded:
      return new ConnectError(
        fromService ? e.rawMessage : "the inference service did not answer in time",
        Code.DeadlineExceeded,
        meta,
        undefined,
        e,
      );
    default:
      return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }
}
