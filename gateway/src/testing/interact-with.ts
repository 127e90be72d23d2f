import { Code, ConnectError } from "@connectrpc/connect";
import type { GenerateRequest, InteractRequest, StreamEvent } from "@airwave/proto";

/**
 * Interact over a Generate implementation, for fake inference services in
 * tests: reads the `start` message and yields what `generate` yields for
 * it; later messages (inputs) are ignored, so fakes built on it never ask
 * for input. Raises Code.InvalidArgument when the first message is not
 * `start`. @private test support
 */
export async function* interactWith<C>(
  generate: (req: GenerateRequest, ctx: C) => AsyncIterable<{ event: StreamEvent }>,
  reqs: AsyncIterable<InteractRequest>,
  ctx: C,
): AsyncGenerator<{ event: StreamEvent }> {
  const first = await reqs[Symbol.asyncIterator]().next();
  if (first.done || first.value.message.case !== "start") throw new ConnectError("start first", Code.InvalidArgument);
  yield* generate(first.value.message.value, ctx);
}
