import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";
import { decodeOllamaStream } from "./decode-ollama-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { readOllamaOptions } from "./ollama-options.js";
import { toOllamaChatRequest, toOllamaGenerateRequest } from "./to-ollama-request.js";

/** Ollama's default address, when the configuration gives no base URL. */
export const defaultOllamaBaseUrl = "http://127.0.0.1:11434";

/**
 * The `ollama` kind: Ollama's native streaming APIs, NDJSON bodies.
 * Base URL: the server root without `/api`, e.g. `http://127.0.0.1:11434`
 * ({@link defaultOllamaBaseUrl}). Options (see `readOllamaOptions`):
 * `api: "chat"` (default, `POST /api/chat`) or `"generate"`
 * (`POST /api/generate`), and `thinkTags: true` to turn `<think>…</think>`
 * in the answer into reasoning. The API key, when configured (Ollama behind
 * an authenticating proxy, ollama.com), goes in `Authorization: Bearer`.
 *
 * (Ollama's OpenAI-compatible `/v1` API is served by the `openai-chat` kind.)
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export const ollamaSpec: HttpProviderSpec = {
  kind: "ollama",
  request(req, model, endpoint) {
    const { api } = readOllamaOptions(endpoint.options);
    const base = endpoint.baseUrl === "" ? defaultOllamaBaseUrl : endpoint.baseUrl;
    const body = api === "generate" ? toOllamaGenerateRequest(req, model) : toOllamaChatRequest(req, model);
    return {
      url: `${base}/api/${api}`,
      headers: {
        ...endpoint.headers,
        "content-type": "application/json",
        accept: "application/x-ndjson",
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
    };
  },
  decode(body, endpoint) {
    return decodeOllamaStream(body, { thinkTags: readOllamaOptions(endpoint.options).thinkTags });
  },
  errorMessage: errorBodyMessage,
};
