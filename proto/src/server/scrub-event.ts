import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { StreamEvent } from "@airwave/proto";
import { ConnectError } from "@connectrpc/connect";
import { safeRequestId, type SecretScrubber } from "./scrub-secrets.js";

/**
 * Scrubs, in place, the upstream-originated text of one event with
 * `scrub` (see `createSecretScrubber`):
 * - `started.request_id`: kept only as a plain id (`safeRequestId`), else `""`;
 * - `failed.message` and `completed.raw_finish_reason`: scrubbed;
 * - `provider_metadata` (on any event): every string value and key, at any depth.
 *
 * Model output — text, reasoning and tool-call deltas, tool results,
 * statuses, input prompts — is the user's data and is NOT scrubbed.
 * Returns `e`.
 */
export function scrubEvent(e: StreamEvent, scrub: SecretScrubber): StreamEvent {
  switch (e.event.case) {
    case "started":
      e.event.value.requestId = safeRequestId(e.event.value.requestId, scrub);
      break;
    case "failed":
      e.event.value.message = scrub(e.event.value.message);
      break;
    case "completed":
      e.event.value.rawFinishReason = scrub(e.event.value.rawFinishReason);
      break;
    default:
      break;
  }
  if (e.providerMetadata !== undefined) e.providerMetadata = scrubJson(e.providerMetadata, scrub);
  return e;
}

function scrubJson(v: JsonObject, scrub: SecretScrubber): JsonObject;
function scrubJson(v: JsonValue, scrub: SecretScrubber): JsonValue;
function scrubJson(v: JsonValue, scrub: SecretScrubber): JsonValue {
  if (typeof v === "string") return scrub(v);
  if (Array.isArray(v)) return v.map((x) => scrubJson(x, scrub));
  if (v !== null && typeof v === "object") {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[scrub(k)] = scrubJson(x as JsonValue, scrub);
    return out;
  }
  return v;
}

/**
 * `e` with its message scrubbed by `scrub`: the same error when nothing
 * changed, else a new ConnectError with the scrubbed message and the same
 * code, metadata, details and cause (the cause is for logs; whoever logs it
 * scrubs it too, see {@link scrubCause}). Anything that is not a ConnectError
 * is returned as it is.
 */
export function scrubConnectError<E>(e: E, scrub: SecretScrubber): E | ConnectError {
  if (!(e instanceof ConnectError)) return e;
  const message = scrub(e.rawMessage);
  const cause = scrubCause(e.cause, scrub);
  if (message === e.rawMessage && cause === e.cause) return e;
  const out = new ConnectError(message, e.code, e.metadata, undefined, cause);
  out.details = e.details;
  return out;
}

/**
 * An error cause as it may be logged: a ConnectError scrubbed like
 * {@link scrubConnectError}, a plain object's string fields (e.g. the
 * `{status, body}` an upstream HTTP error keeps) scrubbed; anything else
 * returned as it is.
 */
export function scrubCause(cause: unknown, scrub: SecretScrubber): unknown {
  if (cause instanceof ConnectError) return scrubConnectError(cause, scrub);
  if (cause === null || typeof cause !== "object" || Object.getPrototypeOf(cause) !== Object.prototype) return cause;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cause)) {
    const s = typeof v === "string" ? scrub(v) : v;
    if (s !== v) changed = true;
    out[k] = s;
  }
  return changed ? out : cause;
}
