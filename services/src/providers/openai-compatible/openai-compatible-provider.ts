import { ev, isTerminal, type GenerateRequest, type StreamEvent, type UsageInit } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { ParseError } from "eventsource-parser/stream";
import type { Provider } from "../../provider.js";
import { decodeOpenAIStream } from "./decode-openai-stream.js";
import { fromFetchError, fromOpenAIHttpError } from "./map-openai-error.js";
import { toOpenAIRequest, type ToOpenAIRequestOptions } from "./to-openai-request.js";

/** The base URL used when none is configured: OpenAI itself (which needs an API key). */
export const defaultOpenAIBaseUrl = "https://api.openai.com/v1";

/** Options of {@link createOpenAICompatibleProvider}. */
export interface OpenAICompatibleProviderOptions {
  /** Base URL up to the API version, e.g. `http://localhost:11434/v1` (Ollama); default {@link defaultOpenAIBaseUrl}. */
  readonly baseUrl?: string | undefined;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  readonly apiKey?: string | undefined;
  /** Model for a bare `"openai-compatible"` model string; none by default. */
  readonly defaultModel?: string | undefined;
  /** Body field for `max_output_tokens`; default `max_completion_tokens` for api.openai.com, `max_tokens` elsewhere. */
  readonly maxTokensField?: ToOpenAIRequestOptions["maxTokensField"];
  /** The fetch implementation; default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
}

/** Bound on an upstream error body read for the error message, in bytes. */
const maxErrorBodyBytes = 64 * 1024;

/**
 * Creates the `openai-compatible` provider: OpenAI Chat Completions
 * streaming (`POST {baseUrl}/chat/completions` with `stream: true` and
 * `stream_options.include_usage`), which OpenAI, Ollama's `/v1`, vLLM,
 * llama.cpp's server, TGI's Messages API, Groq, OpenRouter and others speak.
 * Any model name is passed through; the upstream decides.
 *
 * `generate`:
 * - sends the request ({@link toOpenAIRequest}) with the abort signal on `fetch`;
 * - before anything is yielded, raises a ConnectError: Code.Unavailable when
 *   the upstream is unreachable (ECONNREFUSED, DNS, TLS…), the mapped code
 *   of a non-2xx response (400/422 InvalidArgument, 401/403 Internal, 404
 *   NotFound, 408/5xx Unavailable, 429 ResourceExhausted — see
 *   `fromOpenAIHttpError`), Code.InvalidArgument for a request it cannot map.
 *   So `started` means the upstream accepted the request, and an unknown
 *   upstream model is NOT_FOUND for the caller;
 * - after a 2xx response yields `started` (the requested model, the
 *   provider name, the `x-request-id` response header or "") and then the
 *   decoded body ({@link decodeOpenAIStream}), ending at its terminal event;
 * - a body that breaks mid-stream ends with `failed`: UNAVAILABLE
 *   UPSTREAM_TRUNCATED for a lost connection, INTERNAL UPSTREAM_MALFORMED for
 *   an oversized event; with the last usage seen;
 * - on abort, the `fetch` (and so the upstream connection) is aborted and
 *   the signal's reason is thrown.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 * @see https://github.com/ollama/ollama/blob/main/docs/openai.md
 * @see https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
 */
export function createOpenAICompatibleProvider(o: OpenAICompatibleProviderOptions = {}): Provider {
  const baseUrl = (o.baseUrl ?? defaultOpenAIBaseUrl).replace(/\/+$/, "");
  const url = `${baseUrl}/chat/completions`;
  const maxTokensField =
    o.maxTokensField ?? (new URL(baseUrl).hostname === "api.openai.com" ? "max_completion_tokens" : "max_tokens");
  const fetchFn = o.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (o.apiKey) headers["authorization"] = `Bearer ${o.apiKey}`;
  const name = "openai-compatible";

  return {
    name,
    defaultModel: o.defaultModel,
    async *generate(req: GenerateRequest, model: string, signal: AbortSignal): AsyncIterable<StreamEvent> {
      const body = JSON.stringify(toOpenAIRequest(req, model, { maxTokensField }));
      let res: Response;
      try {
        res = await fetchFn(url, { method: "POST", headers, body, signal });
      } catch (e) {
        throw fromFetchError(e, signal);
      }
      if (!res.ok || !res.body) {
        const text = await readText(res, maxErrorBodyBytes).catch(() => "");
        signal.throwIfAborted();
        if (res.ok) throw new ConnectError("the inference provider sent no body", Code.Unavailable);
        throw fromOpenAIHttpError(res.status, text);
      }
      yield ev.started(model, name, res.headers.get("x-request-id") ?? "");
      let usage: UsageInit | undefined;
      try {
        for await (const e of decodeOpenAIStream(res.body)) {
          if (e.event.case === "usage") usage = e.event.value;
          yield e;
          if (isTerminal(e)) return;
        }
      } catch (err) {
        signal.throwIfAborted();
        yield bodyFailure(err, usage);
      }
    },
  };
}

function bodyFailure(err: unknown, usage: UsageInit | undefined): StreamEvent {
  const o = usage ? { usage } : {};
  return err instanceof ParseError
    ? ev.failed(Code.Internal, "the inference provider sent an oversized event", "UPSTREAM_MALFORMED", o)
    : ev.failed(Code.Unavailable, "the connection to the inference provider was lost", "UPSTREAM_TRUNCATED", o);
}

/** Reads at most `maxBytes` of a response body as text, then cancels the rest. */
async function readText(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < maxBytes) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      n += r.value.byteLength;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}
