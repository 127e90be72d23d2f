/**
 * The provider kind that decodes a recorded upstream body under
 * `<fixtures>/upstream/<dir>/<file>`, by the folder names (SOURCES.md):
 * `openai-chat`, `openai-compatible`, `groq`, `mistral`, `deepseek`, `vllm`
 * → `openai-chat`, except a Responses-shaped body (`response.*` events) →
 * `openai-responses`; `tgi` → `tgi` for `/generate_stream` bodies and
 * `openai-chat` for its Messages API (`chat-*` files); the other folders are
 * their own kind.
 *
 * Used by the provider tests and by `npm run conformance:providers` (from
 * the built package), so there is one implementation.
 */
export function fixtureKind(name: string, bytes: Uint8Array): string {
  const [dir = "", file = ""] = name.split("/");
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  switch (dir) {
    case "openai-chat":
    case "openai-compatible":
    case "groq":
    case "mistral":
    case "deepseek":
    case "vllm":
      return /"type":\s*"response\./.test(head) ? "openai-responses" : "openai-chat";
    case "tgi":
      return file.startsWith("chat-") ? "openai-chat" : "tgi";
    default:
      return dir;
  }
}
