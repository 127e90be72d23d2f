import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";
import { decodeOpenAIResponsesStream } from "./decode-openai-responses-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { readOpenAIResponsesOptions, toOpenAIResponsesRequest } from "./to-openai-responses-request.js";

/**
 * The `openai-responses` kind: OpenAI's Responses API (`POST
 * {baseUrl}/responses` with `stream: true`), as OpenAI, Azure OpenAI
 * (`…/openai/v1`), OpenRouter and DeepSeek serve it.
 *
 * - `request`: the body of `toOpenAIResponsesRequest` (options:
 *   `reasoningSummary`, `store`, `include`, `builtinTools`, see
 *   `OpenAIResponsesOptions`); headers `content-type`, `accept:
 *   text/event-stream`, `authorization: Bearer <key>` when a key is
 *   configured, then the configured headers (e.g. `OpenAI-Organization`,
 *   Azure's `api-key`).
 * - `decode`: `decodeOpenAIResponsesStream`.
 * - `errorMessage`: `error.message` of the JSON error body.
 * - The request id is the `x-request-id` response header.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/create
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
export const openAIResponsesSpec: HttpProviderSpec = {
  kind: "openai-responses",
  requestIdHeader: "x-request-id",
  request(req, model, endpoint) {
    const body = toOpenAIResponsesRequest(req, model, readOpenAIResponsesOptions(endpoint.options));
    const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
    if (endpoint.apiKey) headers["authorization"] = `Bearer ${endpoint.apiKey}`;
    Object.assign(headers, endpoint.headers ?? {});
    return { url: `${endpoint.baseUrl.replace(/\/+$/, "")}/responses`, method: "POST", headers, body: JSON.stringify(body) };
  },
  decode: (body) => decodeOpenAIResponsesStream(body),
  errorMessage: errorBodyMessage,
};
