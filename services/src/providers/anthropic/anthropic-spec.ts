import type { HttpProviderSpec, ProviderEndpoint } from "../../http-provider/http-provider-spec.js";
import { decodeAnthropicStream } from "./decode-anthropic-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { toAnthropicRequest } from "./to-anthropic-request.js";

/** Anthropic's API base URL, used when the endpoint's `baseUrl` is empty. */
export const defaultAnthropicBaseUrl = "https://api.anthropic.com";

/** The `anthropic-version` header sent unless the configuration's headers set another. */
export const anthropicVersion = "2023-06-01";

/**
 * The `anthropic` kind: the Anthropic Messages API, streaming.
 *
 * - Request: `POST {baseUrl}/v1/messages` (base default
 *   {@link defaultAnthropicBaseUrl}) with the body of
 *   `toAnthropicRequest` and the headers `x-api-key` (the endpoint's key,
 *   when it has one), `anthropic-version: 2023-06-01`, `content-type` and
 *   `accept`, then the endpoint's `headers` (which may add `anthropic-beta`
 *   or override the version).
 * - Options (`endpoint.options`): `defaultMaxTokens` — `max_tokens` when a
 *   request sets no `max_output_tokens` (default 4096; Anthropic requires
 *   the field).
 * - The provider's request id comes from the `request-id` response header.
 * - `decode`: see `decodeAnthropicStream` and `anthropicChunkMapper`.
 * - `errorMessage`: the `error.message` of Anthropic's error body.
 *
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export const anthropicSpec: HttpProviderSpec = {
  kind: "anthropic",
  requestIdHeader: "request-id",
  request(req, model, endpoint) {
    const base = (endpoint.baseUrl || defaultAnthropicBaseUrl).replace(/\/+$/, "");
    const body = toAnthropicRequest(req, model, { defaultMax: defaultMaxOption(endpoint) });
    return {
      url: `${base}/v1/messages`,
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        "anthropic-version": anthropicVersion,
        ...(endpoint.apiKey ? { "x-api-key": endpoint.apiKey } : {}),
        ...endpoint.headers,
      },
      body: JSON.stringify(body),
    };
  },
  decode: (body) => decodeAnthropicStream(body),
  errorMessage: errorBodyMessage,
};

/** `options.defaultMaxTokens` when it is a positive integer. */
function defaultMaxOption(endpoint: ProviderEndpoint): number | undefined {
  const v = endpoint.options?.["defaultMaxTokens"];
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;
}
