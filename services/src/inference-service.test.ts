import { ev, FinishReason, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { guardProviderStream } from "./inference-service.js";

async function* from(events: StreamEvent[], error?: unknown) {
  yield* events;
  if (error) throw error;
}
const run = (events: StreamEvent[], error?: unknown, signal = new AbortController().signal) =>
  Array.fromAsync(guardProviderStream(from(events, error), signal));
const kinds = (evs: StreamEvent[]) => evs.map((e) => e.event.case);

describe("guardProviderStream", () => {
  const started = ev.started("m", "p");
  const done = ev.completed(FinishReason.STOP);

  it("passes a well-formed stream through and drops events after the terminal", async () => {
    expect(kinds(await run([started, ev.textDelta("a"), done, ev.textDelta("late")]))).toEqual(["started", "textDelta", "completed"]);
  });

  it("rethrows an error raised before anything was yielded", async () => {
    const e = new ConnectError("no", Code.NotFound);
    await expect(run([], e)).rejects.toBe(e);
  });

  it("turns an error after started into failed INTERNAL without its text", async () => {
    const evs = await run([started], new Error("secret detail"));
    expect(evs.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "PROVIDER_ERROR", message: "internal error" } });
  });

  it("rethrows an abort even after started", async () => {
    const ac = new AbortController();
    const reason = new ConnectError("bye", Code.Canceled);
    ac.abort(reason);
    await expect(run([started], reason, ac.signal)).rejects.toBe(reason);
  });

  it("ends a stream without a terminal event with failed PROVIDER_INCOMPLETE", async () => {
    expect((await run([started])).at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "PROVIDER_INCOMPLETE" } });
  });
});
