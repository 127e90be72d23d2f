import type { HttpProviderSpec, ProviderEndpoint } from "../../http-provider/http-provider-spec.js";
import { decodeGeminiStream } from "./decode-gemini-stream.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { toGeminiRequest } from "./to-gemini-request.js";

/** The Gemini API's base URL, used when the configuration gives none. */
export const defaultGeminiBaseUrl = "https://generativelanguage.googleapis.com";

/**
 * The `gemini` kind's endpoint options (`endpoint.options` in the routing
 * configuration), all optional:
 *
 * - `vertex: true` — Vertex AI: `baseUrl` is the publisher path, e.g.
 *   `https://aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google`
 *   (or `https://{location}-aiplatform.googleapis.com/v1/…`), and the request
 *   goes to `{baseUrl}/models/{model}:streamGenerateContent?alt=sse`; call
 *   ids are not sent in function calls and responses.
 * - `apiVersion` — Gemini API only: the version path, default `"v1beta"`
 *   (URL `{baseUrl}/{apiVersion}/models/{model}:streamGenerateContent?alt=sse`).
 * - `auth: "bearer"` — send the key as `Authorization: Bearer <key>` (a
 *   Vertex AI OAuth access token); default `x-goog-api-key: <key>` (Gemini
 *   API keys and Vertex AI express-mode keys).
 */
export interface GeminiEndpointOptions {
  readonly vertex: boolean;
  readonly apiVersion: string;
  readonly auth: "api-key" | "bearer";
}

/** Reads {@link GeminiEndpointOptions} from `endpoint.options`, with defaults for missing or mistyped values. */
export function geminiOptions(endpoint: ProviderEndpoint): GeminiEndpointOptions {
  const o = endpoint.options ?? {};
  return {
    vertex: o["vertex"] === true,
    apiVersion: typeof o["apiVersion"] === "string" && /^[\w.-]+$/.test(o["apiVersion"]) ? o["apiVersion"] : "v1beta",
    auth: o["auth"] === "bearer" ? "bearer" : "api-key",
  };
}

/**
 * The `gemini` kind: Google's Gemini API and Vertex AI
 * `streamGenerateContent?alt=sse`. Requests are built by `toGeminiRequest`,
 * bodies decoded by `decodeGeminiStream`, error bodies read by
 * `errorBodyMessage`. The model name is the path segment after `models/`
 * (URL-encoded); a name with a `/` (e.g. `tunedModels/x`) is used as the
 * whole resource path instead. Endpoint options: {@link GeminiEndpointOptions}.
 * No request-id header: the response id arrives in the body (`responseId`,
 * kept as `provider_metadata`).
 *
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/streamGenerateContent
 */
export const geminiSpec: HttpProviderSpec = {
  kind: "gemini",
  request(req, model, endpoint) {
    const o = geminiOptions(endpoint);
    const base = (endpoint.baseUrl || defaultGeminiBaseUrl).replace(/\/+$/, "");
    const resource = model.includes("/") ? model : `models/${encodeURIComponent(model)}`;
    const url = `${base}${o.vertex ? "" : `/${o.apiVersion}`}/${resource}:streamGenerateContent?alt=sse`;
    const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
    if (endpoint.apiKey) {
      if (o.auth === "bearer") headers["authorization"] = `Bearer ${endpoint.apiKey}`;
      else headers["x-goog-api-key"] = endpoint.apiKey;
    }
    return {
      url,
      method: "POST",
      headers: { ...headers, ...(endpoint.headers ?? {}) },
      body: JSON.stringify(toGeminiRequest(req, { callIds: !o.vertex })),
    };
  },
  decode: (body) => decodeGeminiStream(body),
  errorMessage: errorBodyMessage,
};
