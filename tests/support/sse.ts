import { EventSourceParserStream } from "eventsource-parser/stream";

/** One SSE event as read off the wire. */
export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Reads an SSE response body with eventsource-parser (a real SSE parser). */
export async function readSse(res: Response): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const e of events) out.push({ id: e.id, event: e.event, data: e.data });
  return out;
}

/** The concatenated `textDelta` text of canonical-JSON StreamEvents. */
export function textOf(events: { textDelta?: { text?: string } }[]): string {
  return events.map((e) => e.textDelta?.text ?? "").join("");
}
