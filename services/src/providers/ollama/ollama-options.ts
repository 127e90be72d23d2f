import { Code, ConnectError } from "@connectrpc/connect";

/** The `ollama` kind's endpoint options, read by {@link readOllamaOptions}. */
export interface OllamaOptions {
  /** Which native API to call: `/api/chat` (default) or `/api/generate`. */
  readonly api: "chat" | "generate";
  /** Extract `<think>…</think>` from the answer text as reasoning. Default false. */
  readonly thinkTags: boolean;
}

/**
 * Reads the routing configuration's `options` of an `ollama` endpoint:
 *
 * - `api`: `"chat"` (default; `POST /api/chat`, conversations and tools) or
 *   `"generate"` (`POST /api/generate`, one prompt and a system text);
 * - `thinkTags`: `true` to turn `<think>…</think>` in the answer into
 *   reasoning (models that reason inside their text, e.g. deepseek-r1 when
 *   Ollama does not separate `thinking`); default false.
 *
 * Raises a ConnectError with Code.Internal (a configuration error, not the
 * caller's) for any other value of these options.
 */
export function readOllamaOptions(options: Readonly<Record<string, unknown>> | undefined): OllamaOptions {
  const api = options?.["api"] ?? "chat";
  const thinkTags = options?.["thinkTags"] ?? false;
  if (api !== "chat" && api !== "generate") {
    throw new ConnectError('ollama: the endpoint option "api" must be "chat" or "generate"', Code.Internal);
  }
  if (typeof thinkTags !== "boolean") {
    throw new ConnectError('ollama: the endpoint option "thinkTags" must be true or false', Code.Internal);
  }
  return { api, thinkTags };
}
