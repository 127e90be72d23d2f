/**
 * The base URL of each provider kind when the configuration gives none; a
 * kind missing here (`tgi`: always self-hosted) needs an explicit `baseUrl`.
 *
 * @see https://platform.openai.com/docs/api-reference/introduction
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export const defaultBaseUrls: Readonly<Record<string, string>> = {
  "openai-chat": "https://api.openai.com/v1",
  "openai-responses": "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
  gemini: "https://generativelanguage.googleapis.com",
  ollama: "http://127.0.0.1:11434",
};
