import { ConnectError } from "@connectrpc/connect";
import { eventKindName, type StreamEvent } from "@airwave/proto";

/** Test helper: reads a stream to its end, collecting event kinds and the error that ended it, if any. */
export async function drain(it: AsyncIterable<StreamEvent>): Promise<{ kinds: string[]; error?: ConnectError }> {
  const kinds: string[] = [];
  try {
    for await (const e of it) kinds.push(eventKindName(e));
    return { kinds };
  } catch (e) {
    return { kinds, error: ConnectError.from(e) };
  }
}
