import { type Message, Role } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** Role labels of {@link renderTgiPrompt}'s transcript format. */
const labels: Partial<Record<Role, string>> = {
  [Role.SYSTEM]: "System",
  [Role.USER]: "User",
  [Role.ASSISTANT]: "Assistant",
};

/**
 * Renders a conversation into the one prompt string TGI's native API takes
 * (`inputs`). TGI's native `/generate_stream` applies no chat template:
 * chat models should be served through TGI's Messages API
 * (`/v1/chat/completions`, the `openai-chat` kind), which applies the
 * model's own template. This plain format suits base (completion) models:
 *
 * - a conversation of exactly one USER message → its text, verbatim (a
 *   completion prompt);
 * - otherwise a transcript: each message as `<Role>: <text>` (`System`,
 *   `User`, `Assistant`; text parts joined by `"\n"`), messages separated by
 *   a blank line (`"\n\n"`), ending with `"\n\nAssistant:"` for the model to
 *   answer — unless the last message is the assistant's, whose text is then
 *   left open for the model to continue.
 *
 * Raises a ConnectError with Code.InvalidArgument for tool calls, tool
 * results and TOOL messages (the native API has no tools).
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 * @see https://huggingface.co/docs/text-generation-inference/messages_api
 */
export function renderTgiPrompt(messages: readonly Message[]): string {
  const turns = messages.map((m, i) => {
    const label = labels[m.role];
    if (label === undefined || m.parts.some((p) => p.part.case !== "text")) {
      throw new ConnectError(
        `messages[${i}]: tgi's native API takes text only (no tool calls or results); use the openai-chat kind with TGI's Messages API`,
        Code.InvalidArgument,
      );
    }
    return { role: m.role, label, text: m.parts.map((p) => (p.part.case === "text" ? p.part.value : "")).join("\n") };
  });
  const [only] = turns;
  if (turns.length === 1 && only?.role === Role.USER) return only.text;
  const transcript = turns.map((t) => `${t.label}: ${t.text}`).join("\n\n");
  return turns.at(-1)?.role === Role.ASSISTANT ? transcript : `${transcript}\n\nAssistant:`;
}
