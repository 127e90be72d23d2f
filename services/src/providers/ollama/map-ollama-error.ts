import { Code } from "@connectrpc/connect";
import { ollamaErrorSchema } from "./ollama-chunk.js";
import { oneLine } from "../../json-shape.js";

/** An Ollama error line, mapped for a terminal `failed` event. */
export interface MappedOllamaError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
}

/**
 * Maps the message of an `{"error": "<message>"}` line inside a 200 Ollama
 * stream (read through `ollamaErrorSchema`: a string, or `{message}`).
 * Ollama has no error codes in the stream, only text, so the table reads
 * the text (case-insensitive):
 *
 * | message contains | Code | reason | Ollama's message shown |
 * |---|---|---|---|
 * | `not found` (model or file) | NotFound | UPSTREAM_REJECTED | yes |
 * | `invalid`, `does not support`, `unsupported`, `exceeds` (context) | InvalidArgument | UPSTREAM_REJECTED | yes |
 * | `busy`, `too many`, `overloaded`, `maximum pending` (its queue is full) | Unavailable (retryable) | UPSTREAM_OVERLOADED | no |
 * | anything else (the runner failed: `an error was encountered while running the model`, `unexpected EOF`, out of memory, …) | Unavailable (retryable) | UPSTREAM_ERROR | no |
 *
 * Ollama's own message (one line, at most 300 characters) is passed on only
 * for errors about the caller's request.
 *
 * @see https://docs.ollama.com/api/errors
 */
export function mapOllamaError(error: unknown): MappedOllamaError {
  const text = ollamaErrorSchema.parse(error);
  const t = text.toLowerCase();
  const [code, reason] = /not found/.test(t)
    ? [Code.NotFound, "UPSTREAM_REJECTED"]
    : /invalid|does not support|unsupported|exceeds/.test(t)
      ? [Code.InvalidArgument, "UPSTREAM_REJECTED"]
      : /busy|too many|overloaded|maximum pending/.test(t)
        ? [Code.Unavailable, "UPSTREAM_OVERLOADED"]
        : [Code.Unavailable, "UPSTREAM_ERROR"];
  const upstream = reason === "UPSTREAM_REJECTED" && text !== "" ? oneLine(text) : "";
  return { code, reason, message: `the inference provider reported an error during the stream${upstream ? `: ${upstream}` : ""}` };
}
