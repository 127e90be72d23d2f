import { Code, ConnectError } from "@connectrpc/connect";
import type { ThinkTagOptions } from "../../think-tags.js";

/** The `openai-chat` endpoint options (the configuration's `options` object), checked. */
export interface OpenAIChatOptions {
  /** `<think>` extraction from content: undefined = off. */
  readonly thinkTags: ThinkTagOptions | undefined;
  /** Send `stream_options: {include_usage: true}`. */
  readonly includeUsage: boolean;
  /** The body field for `max_output_tokens`; undefined = by host (see {@link parseOpenAIChatOptions}). */
  readonly maxTokensField: "max_tokens" | "max_completion_tokens" | undefined;
  /** Where the API key goes: `authorization` (`Bearer <key>`) or Azure's `api-key` header. */
  readonly apiKeyHeader: "authorization" | "api-key";
  /** Azure's `api-version` query parameter, for deployments that need one. */
  readonly apiVersion: string | undefined;
}

/**
 * Reads the `openai-chat` endpoint options:
 *
 * | option | values | default | what |
 * |---|---|---|---|
 * | `thinkTags` | `true`, `false`, `"start-inside"` | false | extract `<think>…</think>` from content as reasoning (DeepSeek-R1, Qwen3, QwQ on servers without a reasoning parser); `"start-inside"` for templates that open `<think>` in the prompt, so only `</think>` appears |
 * | `streamOptions` | `true`, `false` | true | send `stream_options: {include_usage: true}`; false for servers that reject it |
 * | `maxTokensField` | `"max_tokens"`, `"max_completion_tokens"` | `max_completion_tokens` for api.openai.com, else `max_tokens` | the body field for `max_output_tokens` |
 * | `apiKeyHeader` | `"authorization"`, `"api-key"` | `"authorization"` | Azure OpenAI takes keys in `api-key` |
 * | `apiVersion` | a string | none | Azure's `?api-version=` (not needed with its `/openai/v1` base URL) |
 *
 * @throws ConnectError Code.Internal naming the option for a value of the
 * wrong type (a configuration mistake, not the caller's).
 * @see https://learn.microsoft.com/azure/ai-foundry/openai/reference
 */
export function parseOpenAIChatOptions(options: Readonly<Record<string, unknown>> | undefined): OpenAIChatOptions {
  const o = options ?? {};
  const bad = (name: string, want: string) => new ConnectError(`openai-chat endpoint option ${name}: must be ${want}`, Code.Internal);
  const think = o["thinkTags"];
  if (think !== undefined && think !== true && think !== false && think !== "start-inside")
    throw bad("thinkTags", 'true, false or "start-inside"');
  const streamOptions = o["streamOptions"];
  if (streamOptions !== undefined && typeof streamOptions !== "boolean") throw bad("streamOptions", "a boolean");
  const maxTokensField = o["maxTokensField"];
  if (maxTokensField !== undefined && maxTokensField !== "max_tokens" && maxTokensField !== "max_completion_tokens") {
    throw bad("maxTokensField", '"max_tokens" or "max_completion_tokens"');
  }
  const apiKeyHeader = o["apiKeyHeader"];
  if (apiKeyHeader !== undefined && apiKeyHeader !== "authorization" && apiKeyHeader !== "api-key") {
    throw bad("apiKeyHeader", '"authorization" or "api-key"');
  }
  const apiVersion = o["apiVersion"];
  if (apiVersion !== undefined && (typeof apiVersion !== "string" || apiVersion === "")) throw bad("apiVersion", "a non-empty string");
  return {
    thinkTags: think === true ? {} : think === "start-inside" ? { startInside: true } : undefined,
    includeUsage: streamOptions !== false,
    maxTokensField,
    apiKeyHeader: apiKeyHeader ?? "authorization",
    apiVersion,
  };
}
