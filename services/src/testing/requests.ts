import { Role } from "@airwave/proto";

/**
 * Test support for the request mappers (not part of the build's public
 * surface): the parts and the tool-using conversation their tests map.
 * @private
 */

/** A text part. */
export const text = (value: string) => ({ part: { case: "text" as const, value } });

/** A tool call part. */
export const toolCallPart = (callId: string, name: string, argumentsJson: string) => ({
  part: { case: "toolCall" as const, value: { callId, name, argumentsJson } },
});

/** A tool result part. */
export const toolResultPart = (callId: string, result: string, isError = false) => ({
  part: { case: "toolResult" as const, value: { callId, result, isError } },
});

/** The two tools of {@link weatherConversation}: `get_weather` with a JSON schema, `get_time` without one. */
export const weatherTools = [
  { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
  { name: "get_time" },
];

/**
 * A conversation with every role, as `GenerateRequest.messages` init:
 * system "be brief"; user "weather in" + "Oslo?" named `ann`; assistant
 * `assistantLead` parts then calls `c1` get_weather `{"city":"Oslo"}` and
 * `c2` get_time (no arguments); tool results `c1` "sunny" and `c2`
 * "failed" (an error).
 */
export function weatherConversation(assistantLead: readonly object[] = []) {
  return [
    { role: Role.SYSTEM, parts: [text("be brief")] },
    { role: Role.USER, parts: [text("weather in"), text("Oslo?")], name: "ann" },
    {
      role: Role.ASSISTANT,
      parts: [...assistantLead, toolCallPart("c1", "get_weather", '{"city":"Oslo"}'), toolCallPart("c2", "get_time", "")],
    },
    { role: Role.TOOL, parts: [toolResultPart("c1", "sunny"), toolResultPart("c2", "failed", true)] },
  ];
}
