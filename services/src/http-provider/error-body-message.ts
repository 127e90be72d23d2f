import { asRecord, oneLine } from "../json-shape.js";

/**
 * The caller-safe message of a non-2xx upstream error body, the one reader
 * for every provider kind (a spec's `errorMessage`):
 * - `{"error": {"message": …}}` — OpenAI, vLLM, Groq, Anthropic, Gemini;
 * - `{"error": "<message>"}` — TGI, Ollama;
 * - a top-level `message` or `detail` — FastAPI-based servers and proxies;
 * - the first element of an array of those — Gemini's non-SSE stream endpoint.
 *
 * Returns the message on one line of at most 300 characters (`oneLine`), or
 * undefined when the body is empty, not JSON, or has no non-blank message.
 *
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 * @see https://docs.anthropic.com/en/api/errors
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting
 * @see https://huggingface.github.io/text-generation-inference/ (schema `ErrorResponse`)
 * @see https://docs.ollama.com/api/errors
 */
export function errorBodyMessage(body: string): string | undefined {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    return undefined;
  }
  const root = asRecord(Array.isArray(j) ? (j as unknown[])[0] : j);
  const e = root?.["error"];
  const m = typeof e === "string" ? e : (asRecord(e)?.["message"] ?? root?.["message"] ?? root?.["detail"]);
  return typeof m === "string" && m.trim() !== "" ? oneLine(m) : undefined;
}
