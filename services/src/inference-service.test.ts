import { create } from "@bufbuild/protobuf";
import {
  ev,
  FinishReason,
  GenerateRequestSchema,
  InferenceService,
  type InteractRequest,
  InteractRequestSchema,
  Role,
  type StreamEvent,
} from "@airwave/proto";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createInferenceService, guardProviderStream } from "./inference-service.js";
import { createSimulatorProvider } from "./providers/simulator/simulator-provider.js";
import { codeOf, kinds } from "./testing/stream-events.js";

async function* from(events: StreamEvent[], error?: unknown) {
  yield* events;
  if (error) throw error;
}
const run = (events: StreamEvent[], error?: unknown, signal = new AbortController().signal) =>
  Array.fromAsync(guardProviderStream(from(events, error), signal));

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

describe("InferenceService.Interact", () => {
  const client = () =>
    createClient(
      InferenceService,
      createRouterTransport(({ service }) => {
        service(InferenceService, createInferenceService([createSimulatorProvider({ pacing: { ttftMs: 0, tokensPerS: 0 } })]));
      }),
    );
  const request = (model = "simulator/agent") =>
    create(GenerateRequestSchema, {
      model,
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Explain tidal power" } }] }],
    });
  const start = (model?: string) => create(InteractRequestSchema, { message: { case: "start", value: request(model) } });
  const input = (inputId: string, text: string) => create(InteractRequestSchema, { message: { case: "input", value: { inputId, text } } });

  async function* each(ms: InteractRequest[]) {
    yield* ms;
  }

  /** A request side the test writes to: `push` a message, `end` the side. */
  function requests() {
    const items: InteractRequest[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const kick = () => {
      wake?.();
      wake = undefined;
    };
    return {
      push: (m: InteractRequest) => (items.push(m), kick()),
      end: () => ((ended = true), kick()),
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const m = items.shift();
          if (m) yield m;
          else if (ended) return;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }

  it("refuses a first message that is not start, and an empty request side, with InvalidArgument", async () => {
    expect((await codeOf(Array.fromAsync(client().interact(each([input("x", "yes")]))))).code).toBe(Code.InvalidArgument);
    expect((await codeOf(Array.fromAsync(client().interact(each([]))))).code).toBe(Code.InvalidArgument);
  });

  it("carries the answer to the running generation: input_requested, then input_answered and the rest", async () => {
    const reqs = requests();
    reqs.push(start());
    const kinds: string[] = [];
    let answered: StreamEvent | undefined;
    for await (const { event } of client().interact(reqs)) {
      kinds.push(event!.event.case ?? "");
      if (event!.event.case === "inputRequested") reqs.push(input(event!.event.value.inputId, "yes"));
      if (event!.event.case === "inputAnswered") answered = event;
    }
    reqs.end();
    expect(kinds[0]).toBe("started");
    expect(kinds.at(-1)).toBe("completed");
    expect(answered).toMatchObject({ agentId: "planner", event: { value: { text: "yes" } } });
    expect(kinds.indexOf("inputAnswered")).toBe(kinds.indexOf("inputRequested") + 1);
  });

  it("ignores answers to other ids, and a closed request side ends the wait with INPUT_UNAVAILABLE", async () => {
    const reqs = requests();
    reqs.push(start());
    const events: StreamEvent[] = [];
    for await (const { event } of client().interact(reqs)) {
      events.push(event!);
      if (event!.event.case === "inputRequested") {
        reqs.push(input("not-asked", "yes"));
        reqs.end();
      }
    }
    expect(events.some((e) => e.event.case === "inputAnswered")).toBe(false);
    expect(events.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "INPUT_UNAVAILABLE" } });
  });

  it("Generate of the agent ends with failed INPUT_UNAVAILABLE; Interact of a plain model is Generate's stream", async () => {
    const viaGenerate = await Array.fromAsync(client().generate(request()));
    expect(viaGenerate.at(-1)?.event?.event).toMatchObject({ case: "failed", value: { reason: "INPUT_UNAVAILABLE" } });
    const plain = await Array.fromAsync(client().generate(request("simulator/fast")));
    const viaInteract = await Array.fromAsync(client().interact(each([start("simulator/fast")])));
    expect(viaInteract.map((r) => r.event)).toEqual(plain.map((r) => r.event));
  });

  it("refuses an unknown model with NotFound before any event", async () => {
    expect((await codeOf(Array.fromAsync(client().interact(each([start("simulator/nope")]))))).code).toBe(Code.NotFound);
  });
});
