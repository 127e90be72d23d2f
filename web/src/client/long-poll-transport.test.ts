import { create, toJson } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, ev, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { createLongPollTransport } from "./long-poll-transport.js";

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "s", epoch: "E", seq });
const resumed = (outcome: ResumeOutcome, cursor: string) =>
  create(StreamEventSchema, { streamId: "s", event: { case: "resumed", value: { outcome, cursor } } });
const batch = (events: StreamEvent[], cursor: string, done = false) =>
  Response.json({ streamId: "s", events: events.map((e) => toJson(StreamEventSchema, e)), cursor, done });

/** A fetch answering each poll with the next batch, recording the URLs. */
function polls(...answers: Response[]) {
  const urls: string[] = [];
  const fetch: typeof globalThis.fetch = async (input) => {
    urls.push(String(input));
    const r = answers.shift();
    if (r === undefined) throw new Error("unexpected poll");
    return r;
  };
  return { fetch, urls };
}
const describeEvent = (e: StreamEvent) =>
  e.event.case === "resumed" ? `resumed ${ResumeOutcome[e.event.value.outcome]}` : `${e.seq} ${e.event.case}`;

describe("createLongPollTransport", () => {
  it("passes on the resume the caller asked for, drops the RECOVERED resumes of its own follow-up polls, keeps the others", async () => {
    const { fetch, urls } = polls(
      batch([resumed(ResumeOutcome.RECOVERED, "E:1"), at(2, ev.textDelta("a"))], "E:2"),
      batch([resumed(ResumeOutcome.RECOVERED, "E:2"), at(3, ev.textDelta("b"))], "E:3"),
      batch([resumed(ResumeOutcome.TRIMMED, "E:5"), at(6, ev.textDelta("c"))], "E:6", true),
    );
    const t = createLongPollTransport({ baseUrl: "http://gw", fetch, waitMs: 1000 });
    const got: string[] = [];
    for await (const e of t.watch("s", { epoch: "E", seq: 1 }, new AbortController().signal)) got.push(describeEvent(e));
    expect(got).toEqual(["resumed RECOVERED", "2 textDelta", "3 textDelta", "resumed TRIMMED", "6 textDelta"]);
    expect(urls).toEqual([
      "http://gw/v1/streams/s/events?after=E%3A1&wait_ms=1000",
      "http://gw/v1/streams/s/events?after=E%3A2&wait_ms=1000",
      "http://gw/v1/streams/s/events?after=E%3A3&wait_ms=1000",
    ]);
  });

  it("drops the RECOVERED resumes of the polls that continue a create", async () => {
    const { fetch } = polls(
      batch([at(1, ev.started("m", "p"))], "E:1"),
      batch([resumed(ResumeOutcome.RECOVERED, "E:1"), at(2, ev.textDelta("a"))], "E:2", true),
    );
    const t = createLongPollTransport({ baseUrl: "http://gw", fetch });
    const got: string[] = [];
    for await (const e of t.create(create(CreateStreamRequestSchema, { streamId: "s" }), new AbortController().signal))
      got.push(describeEvent(e));
    expect(got).toEqual(["1 started", "2 textDelta"]);
  });

  it("follows the id the gateway chose when the request named none", async () => {
    const { fetch, urls } = polls(batch([at(1, ev.started("m", "p"))], "E:1"), batch([at(2, ev.textDelta("a"))], "E:2", true));
    const t = createLongPollTransport({ baseUrl: "http://gw", fetch, waitMs: 1000 });
    const got: string[] = [];
    for await (const e of t.create(create(CreateStreamRequestSchema, {}), new AbortController().signal)) got.push(describeEvent(e));
    expect(got).toEqual(["1 started", "2 textDelta"]);
    expect(urls[1]).toBe("http://gw/v1/streams/s/events?after=E%3A1&wait_ms=1000");
  });
});
