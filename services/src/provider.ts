import type { Context } from "@opentelemetry/api";
import type { GenerateRequest, StreamEvent } from "@airwave/proto";

/**
 * The answers a running generation receives (InferenceService.Interact):
 * how an agent that emitted `input_requested` waits for its answer.
 */
export interface InputChannel {
  /**
   * Resolves with the answer text to `inputId` once it arrives (at once if
   * it already did). Rejects with the signal's reason when `signal` aborts,
   * and with Code.FailedPrecondition when no more input can come (the
   * caller closed its side of the call).
   */
  wait(inputId: string, signal: AbortSignal): Promise<string>;
}

/**
 * A model provider: turns one {@link GenerateRequest} into a stream of
 * unpositioned airwave.v1 events.
 *
 * Invariants of the stream returned by {@link Provider.generate}:
 * - the first event is `started` (model, provider name, provider request id);
 * - then `text_delta`, `reasoning_delta`, `tool_call_*` and `usage` events;
 * - then exactly one terminal event, `completed` or `failed`, and nothing after it.
 *
 * Errors:
 * - A request this provider cannot serve is refused *before* anything is
 *   yielded, by throwing a ConnectError (Code.InvalidArgument for a request
 *   the provider cannot map, Code.NotFound for an unknown model,
 *   Code.Unavailable when the upstream cannot be reached, …).
 * - After `started`, a failure is the terminal `failed` event (`ev.failed`);
 *   the iterator never throws mid-stream, except for an abort.
 * - When `signal` aborts, the provider stops promptly (no further upstream
 *   work) and ends by throwing the signal's reason. The caller discards
 *   anything it would have yielded.
 */
export interface Provider {
  /** The provider's name, the `<provider>` part of `GenerateRequest.model` (e.g. `"simulator"`). */
  readonly name: string;
  /** The model used when `GenerateRequest.model` is the bare provider name; undefined when the provider has none. */
  readonly defaultModel?: string | undefined;
  /**
   * The models this provider serves; an unknown one is refused with
   * Code.NotFound before `generate` is called. Undefined means "any name":
   * the upstream decides (and refuses an unknown model with NOT_FOUND).
   */
  readonly models?: readonly string[] | undefined;
  /**
   * Runs one generation.
   *
   * @param req - the validated request (see `validateGenerateRequest`).
   * @param model - the model part of `req.model`, already resolved (no provider prefix).
   * @param signal - aborts the generation and its upstream request (client cancel, deadline, shutdown).
   * @param inputs - answers to the `input_requested` events it emits; absent under Generate (no input can come).
   * @param trace - the OpenTelemetry context of the call (its span): the parent of an upstream request's span, carried to the upstream as `traceparent`.
   */
  generate(req: GenerateRequest, model: string, signal: AbortSignal, inputs?: InputChannel, trace?: Context): AsyncIterable<StreamEvent>;
}
