import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";
import { decodeOpenAIChatStream } from "./decode-openai-chat-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { parseOpenAIChatOptions } from "./openai-chat-options.js";
import { toOpenAIRequest } from "./to-openai-chat-request.js";

/**
 * The `openai-chat` kind: OpenAI Chat Completions and the servers that
 * speak it (Azure OpenAI, vLLM, Ollama `/v1`, llama.cpp, TGI's Messages API,
 * DeepSeek, Groq, Mistral, Together, Fireworks, OpenRouter, xAI, Qwen/Z.ai,
 * Cohere's compatibility API, SambaNova, Nebius, Novita, …).
 *
 * - `request`: `POST {baseUrl}/chat/completions` (plus `?api-version=` when
 *   configured), `Authorization: Bearer <key>` (or `api-key: <key>`) when a
 *   key is set, the endpoint's headers, and the body of
 *   {@link toOpenAIRequest} with `stream: true` and, unless the endpoint
 *   option `streamOptions` is false, `stream_options: {include_usage: true}`.
 *   Options: see {@link parseOpenAIChatOptions}.
 * - `decode`: {@link decodeOpenAIChatStream}, with `<think>` extraction when
 *   the endpoint option `thinkTags` is `true` or `"start-inside"`.
 * - `errorMessage`: `error.message` (or `error` as a string, `message`,
 *   `detail`) of the error body, one line.
 * - The request id is the `x-request-id` response header (OpenAI, Groq,
 *   vLLM, Mistral, DeepSeek, …).
 *
 * @throws ConnectError from `request`: Code.InvalidArgument for a request it
 * cannot express (a seed beyond ±2^53), Code.Internal for an invalid endpoint option.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export const openAIChatSpec: HttpProviderSpec = {
  kind: "openai-chat",
  requestIdHeader: "x-request-id",
  request(req, model, endpoint) {
    const o = parseOpenAIChatOptions(endpoint.options);
    const baseUrl = endpoint.baseUrl.replace(/\/+$/, "");
    const maxTokensField = o.maxTokensField ?? (new URL(baseUrl).hostname === "api.openai.com" ? "max_completion_tokens" : "max_tokens");
    const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
    if (endpoint.apiKey) {
      if (o.apiKeyHeader === "api-key") headers["api-key"] = endpoint.apiKey;
      else headers["authorization"] = `Bearer ${endpoint.apiKey}`;
    }
    Object.assign(headers, endpoint.headers);
    const query = o.apiVersion ? `?api-version=${encodeURIComponent(o.apiVersion)}` : "";
    return {
      url: `${baseUrl}/chat/completions${query}`,
      method: "POST",
      headers,
      body: JSON.stringify(toOpenAIRequest(req, model, { maxTokensField, includeUsage: o.includeUsage })),
    };
  },
  decode(body, endpoint) {
    return decodeOpenAIChatStream(body, { thinkTags: parseOpenAIChatOptions(endpoint.options).thinkTags });
  },
  errorMessage: errorBodyMessage,
};
