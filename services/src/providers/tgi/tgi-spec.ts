import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";
import { decodeTgiStream } from "./decode-tgi-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { toTgiRequest } from "./to-tgi-request.js";

/**
 * The `tgi` kind: Hugging Face Text Generation Inference's native streaming
 * API, `POST {baseUrl}/generate_stream` (SSE of one token per event; the
 * last event carries `generated_text` and `details`). Base URL: the TGI
 * server or Inference Endpoint root, e.g. `http://127.0.0.1:8080`. The API
 * key, when configured, goes in `Authorization: Bearer` (Inference
 * Endpoints, Hugging Face tokens). No options.
 *
 * The native API takes one prompt string and has no tools (see
 * `toTgiRequest`, `renderTgiPrompt`). For chat models, configure TGI's
 * Messages API instead: kind `openai-chat` with base URL `{tgi}/v1`, which
 * applies the model's chat template and supports tools.
 *
 * @see https://huggingface.github.io/text-generation-inference/
 * @see https://huggingface.co/docs/text-generation-inference/messages_api
 */
export const tgiSpec: HttpProviderSpec = {
  kind: "tgi",
  requestIdHeader: "x-request-id",
  request(req, _model, endpoint) {
    // TGI serves one model per server: the model name is not sent.
    return {
      url: `${endpoint.baseUrl}/generate_stream`,
      headers: {
        ...endpoint.headers,
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify(toTgiRequest(req)),
    };
  },
  decode: (body) => decodeTgiStream(body),
  errorMessage: errorBodyMessage,
};
