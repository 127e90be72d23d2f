import type { GenerateRequest, StreamEvent } from "@airwave/proto";

/**
 * Where and how one configured provider is reached: what the routing
 * configuration gives an {@link HttpProviderSpec}. Keys come only from the
 * environment (the configuration names the variable, never the key).
 */
export interface ProviderEndpoint {
  /** Base URL without a trailing slash, as the provider documents it (e.g. `https://api.anthropic.com`, `http://127.0.0.1:11434`, `https://api.openai.com/v1`). */
  readonly baseUrl: string;
  /** The API key, read from the environment variable the configuration names; undefined when none. */
  readonly apiKey?: string | undefined;
  /** Extra request headers from the configuration (e.g. `anthropic-beta`, `OpenAI-Organization`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Provider-specific options from the configuration, documented by each
   * spec (e.g. openai-chat `thinkTags: true` to extract `<think>…</think>`
   * from content, ollama `api: "chat" | "generate"`).
   */
  readonly options?: Readonly<Record<string, unknown>> | undefined;
}

/** The upstream HTTP request a spec builds for one generation. */
export interface UpstreamRequest {
  /** Absolute URL. */
  readonly url: string;
  /** Default `"POST"`. */
  readonly method?: "POST" | "GET";
  /** Request headers, including authentication (the runtime never logs them). */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body text. */
  readonly body: string;
}

/**
 * One provider protocol (a "kind"): how to build its streaming request, how
 * to decode its streaming body, and how to read its error bodies. Pure
 * apart from the body stream it is handed: the HTTP call, timeouts, retries
 * and the HTTP status → Code table live in the shared runtime
 * (`createHttpProvider`), so every kind gets them the same way.
 *
 * Folder layout per kind (vercel/ai style): `<kind>-chunk.ts` (lenient
 * typed schema), `map-<kind>-chunk.ts` (the deterministic Mapper),
 * `map-<kind>-finish-reason.ts`, `map-<kind>-usage.ts`,
 * `map-<kind>-error.ts`, `to-<kind>-request.ts`, `decode-<kind>-stream.ts`,
 * `<kind>-spec.ts`.
 */
export interface HttpProviderSpec {
  /** The kind's name, as used in the routing configuration: `"openai-chat"`, `"anthropic"`, … */
  readonly kind: string;
  /** The response header that carries the provider's request id (e.g. `x-request-id`, `request-id`); none when undefined. */
  readonly requestIdHeader?: string | undefined;
  /**
   * Builds the streaming request for `req`, addressed to `model` (the
   * provider's own model name).
   *
   * @throws ConnectError Code.InvalidArgument for a request this provider
   * cannot express (e.g. a part type it does not support).
   */
  request(req: GenerateRequest, model: string, endpoint: ProviderEndpoint): UpstreamRequest;
  /**
   * Decodes a 2xx streaming body into airwave.v1 events, without `started`
   * (the runtime emits it). The result does not depend on how the body is
   * split into chunks; it ends with exactly one terminal event (pipe the
   * frames through `adapt(mapper)`, services/src/adapt.ts, which holds the
   * mapper to it), unless the body stream itself errors (network loss,
   * abort) or a frame exceeds its bound (`FramingError` of `@airwave/proto`, or eventsource-parser's
   * `ParseError`), which the runtime turns into `failed`: let such errors
   * propagate (see `bodyFailure` for the table).
   */
  decode(body: ReadableStream<Uint8Array>, endpoint: ProviderEndpoint): ReadableStream<StreamEvent>;
  /**
   * The caller-safe message in a non-2xx error body (JSON text, possibly
   * empty or not JSON), for 400/404/413/422/429 responses; undefined when
   * the body has none.
   */
  errorMessage(body: string): string | undefined;
}
