import type { JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { oneLine } from "../../json-shape.js";

/** A TGI error event, mapped for a terminal `failed` event. */
export interface MappedTgiError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
  /** Whether retrying the same request may succeed. */
  readonly retryable: boolean;
}

/** One row of the table: code, reason, retryable, and whether TGI's message is about the caller's request. */
type Row = readonly [Code, string, boolean, boolean];

/**
 * TGI's `error_type` → how the stream fails:
 *
 * | error_type | Code | reason | retryable | TGI's message shown |
 * |---|---|---|---|---|
 * | `validation`, `template_error`, `missing_template_variable`, `tool_error`, `tokenization` | InvalidArgument | UPSTREAM_REJECTED | no | yes |
 * | `overloaded` (the router's queue is full) | Unavailable | UPSTREAM_OVERLOADED | yes | no |
 * | `generation` (the model shard failed), `incomplete_generation`, `incomplete_generation_stream` (the shard's stream stopped early) | Unavailable | UPSTREAM_ERROR | yes | no |
 * | anything else | Unknown | UPSTREAM_ERROR | no | no |
 *
 * @see https://github.com/huggingface/text-generation-inference/blob/main/router/src/infer/mod.rs (`InferError::error_type`)
 */
const table: Readonly<Record<string, Row>> = {
  validation: [Code.InvalidArgument, "UPSTREAM_REJECTED", false, true],
  template_error: [Code.InvalidArgument, "UPSTREAM_REJECTED", false, true],
  missing_template_variable: [Code.InvalidArgument, "UPSTREAM_REJECTED", false, true],
  tool_error: [Code.InvalidArgument, "UPSTREAM_REJECTED", false, true],
  tokenization: [Code.InvalidArgument, "UPSTREAM_REJECTED", false, true],
  overloaded: [Code.Unavailable, "UPSTREAM_OVERLOADED", true, false],
  generation: [Code.Unavailable, "UPSTREAM_ERROR", true, false],
  incomplete_generation: [Code.Unavailable, "UPSTREAM_ERROR", true, false],
  incomplete_generation_stream: [Code.Unavailable, "UPSTREAM_ERROR", true, false],
};

/**
 * Maps a TGI error event `{"error": "<message>", "error_type": "<type>"}`
 * (inside a 200 `/generate_stream` body) by the table above. TGI's own
 * message is passed on (one line, at most 300 characters) only for errors
 * about the caller's request; for the others it may describe the server's
 * internals.
 */
export function mapTgiError(error: JsonValue, errorType: string | undefined): MappedTgiError {
  const type = errorType ?? "";
  const [code, reason, retryable, show] = table[type] ?? [Code.Unknown, "UPSTREAM_ERROR", false, false];
  const upstream = show && typeof error === "string" ? oneLine(error) : "";
  return {
    code,
    reason,
    retryable,
    message: `the inference provider reported ${type === "overloaded" ? "that it is overloaded" : "an error during the stream"}${upstream ? `: ${upstream}` : ""}`,
  };
}
