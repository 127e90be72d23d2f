import type { ServicesConfig } from "../config.js";
import { defaultBaseUrls } from "./default-base-urls.js";

/** A provider configured by the environment alone (no routing file); the key is already read. */
export interface ShortcutProvider {
  readonly name: string;
  readonly kind: string;
  readonly baseUrl: string;
  readonly apiKey?: string | undefined;
  readonly defaultModel?: string | undefined;
}

/**
 * The providers the environment configures without a routing file (a
 * routing file entry of the same name replaces them):
 *
 * | variables | provider name | kind | base URL |
 * |---|---|---|---|
 * | `OPENAI_BASE_URL` and/or `OPENAI_API_KEY`, `OPENAI_DEFAULT_MODEL` | `openai-compatible` | `openai-chat` | `OPENAI_BASE_URL`, default https://api.openai.com/v1 |
 * | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` | `anthropic` | `anthropic` | default https://api.anthropic.com |
 * | `GEMINI_API_KEY` | `gemini` | `gemini` | https://generativelanguage.googleapis.com |
 * | `OLLAMA_HOST` | `ollama` | `ollama` (native API) | `OLLAMA_HOST` |
 *
 * `openai-compatible` keeps the walking skeleton's behaviour exactly: it is
 * configured when either variable is set (Ollama, vLLM, llama.cpp need no key).
 */
export function envShortcuts(config: ServicesConfig): ShortcutProvider[] {
  const out: ShortcutProvider[] = [];
  if (config.openaiBaseUrl !== undefined || config.openaiApiKey !== undefined) {
    out.push({
      name: "openai-compatible",
      kind: "openai-chat",
      baseUrl: config.openaiBaseUrl ?? (defaultBaseUrls["openai-chat"] as string),
      apiKey: config.openaiApiKey,
      defaultModel: config.openaiDefaultModel,
    });
  }
  if (config.anthropicApiKey !== undefined) {
    out.push({
      name: "anthropic",
      kind: "anthropic",
      baseUrl: config.anthropicBaseUrl ?? (defaultBaseUrls["anthropic"] as string),
      apiKey: config.anthropicApiKey,
    });
  }
  if (config.geminiApiKey !== undefined) {
    out.push({ name: "gemini", kind: "gemini", baseUrl: defaultBaseUrls["gemini"] as string, apiKey: config.geminiApiKey });
  }
  if (config.ollamaHost !== undefined) {
    out.push({ name: "ollama", kind: "ollama", baseUrl: config.ollamaHost });
  }
  return out;
}
