/**
 * Agents end to end (real inference service, real gateway): the simulator's
 * multi-agent run asks a question and waits; the answer reaches the running
 * generation from `POST /v1/streams/{id}:input`, Connect SendInput and gRPC
 * SendInput; watchers filter by agent; bad inputs get their documented
 * errors while another stream goes on undisturbed.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type StreamEvent, StreamEventSchema, StreamService } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";

const alice = { authorization: "Bearer alice-secret-key-0001" };
const bob = { authorization: "Bearer bob-secret-key-000002" };

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave({
    gateway: {
      apiKeys: [
        { name: "alice", key: "alice-secret-key-0001" },
        { name: "bob", key: "bob-secret-key-000002" },
      ],
      authMode: "optional",
    },
  });
});
afterAll(async () => {
  await aw?.close();
});

const prompt = "How do heat pumps work in cold climates?";
const agentBody = (metadata: Record<string, string> = {}) =>
  createBody(prompt, { onDetach: "ON_DETACH_CONTINUE" }, { model: "simulator/agent", metadata });

/** One SSE event, its data parsed as a StreamEvent. */
interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: StreamEvent;
}

/** Reads an SSE body event by event, as it arrives (eventsource-parser). */
async function* sse(res: Response): AsyncGenerator<SseEvent> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const e of events) {
    yield { id: e.id, event: e.event, data: fromJson(StreamEventSchema, JSON.parse(e.data) as JsonValue) };
  }
}

function postCreate(body: unknown, headers: Record<string, string> = alice): Promise<Response> {
  return fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
}

function postInput(streamId: string, body: unknown, headers: Record<string, string> = alice, contentType = "application/json") {
  return fetch(`${aw.url}/v1/streams/${streamId}:input`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Status, Connect error code and `airwave-reason` of an HTTP error response. */
async function httpError(res: Response): Promise<string> {
  const { code } = (await res.json()) as { code: string };
  const reason = res.headers.get("airwave-reason");
  return `${res.status} ${code}${reason ? ` ${reason}` : ""}`;
}

const writerText = (events: StreamEvent[]) =>
  events.map((e) => (e.agentId === "writer" && e.event.case === "textDelta" ? e.event.value.text : "")).join("");

describe("an agent run through SSE, answered with POST :input", () => {
  it("blocks at input_requested, takes the answer from POST :input, logs input_answered and finishes with it", async () => {
    const events: StreamEvent[] = [];
    const names: string[] = [];
    let answeredWith: unknown;
    for await (const m of sse(await postCreate(agentBody()))) {
      events.push(m.data);
      names.push(m.event ?? "");
      expect(m.id).toBe(`${m.data.epoch}:${m.data.seq}`);
      if (m.data.event.case === "inputRequested") {
        const res = await postInput(m.data.streamId, { inputId: m.data.event.value.inputId, text: "yes" });
        expect(res.status).toBe(200);
        answeredWith = await res.json();
      }
    }
    const asked = events.find((e) => e.event.case === "inputRequested")!;
    const inputId = asked.event.case === "inputRequested" ? asked.event.value.inputId : "";
    expect(answeredWith).toEqual({ inputId });
    expect(names).toContain("input_requested");
    expect(names).toContain("tool_result");
    expect(names).toContain("status");
    const i = events.indexOf(asked);
    expect(events[i + 1]).toMatchObject({ agentId: "planner", event: { case: "inputAnswered", value: { inputId, text: "yes" } } });
    expect(new Set(events.map((e) => e.agentId))).toEqual(new Set(["", "planner", "researcher", "writer"]));
    expect(writerText(events)).toMatch(/\n\nSources: \[1\] https:\/\/example\.com\//);
    expect(events.at(-1)?.event).toMatchObject({ case: "completed" });
    // A replay sees the question closed: the answer is in the log.
    const replay: StreamEvent[] = [];
    for await (const m of sse(await fetch(`${aw.url}/v1/streams/${asked.streamId}/events`, { headers: alice }))) replay.push(m.data);
    expect(replay.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(replay.some((e) => e.event.case === "inputAnswered")).toBe(true);
  });
});

describe("SendInput over Connect and gRPC", () => {
  it.each([
    ["Connect", () => createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" })],
    ["gRPC (HTTP/2)", () => createGrpcTransport({ baseUrl: aw.url })],
  ])("answers a choice and a text question over %s", async (_name, transport) => {
    const client = createClient(StreamService, transport());
    const run = async (input: string, answer: string) => {
      const events: StreamEvent[] = [];
      const stream = client.createStream(
        {
          request: {
            model: "simulator/agent",
            messages: [{ role: 2, parts: [{ part: { case: "text", value: prompt } }] }],
            metadata: { "simulator.input": input },
          },
        },
        { headers: alice },
      );
      for await (const { event } of stream) {
        events.push(event!);
        if (event!.event.case === "inputRequested") {
          const res = await client.sendInput(
            { streamId: event!.streamId, inputId: event!.event.value.inputId, text: answer },
            { headers: alice },
          );
          expect(res.inputId).toBe(event!.event.value.inputId);
        }
      }
      expect(events.at(-1)?.event.case).toBe("completed");
      return events;
    };
    const short = writerText(await run("choice", "short"));
    const detailed = writerText(await run("choice", "detailed"));
    expect(short.length).toBeLessThan(detailed.length);
    expect(writerText(await run("text", "the running costs"))).toMatch(/^You asked me to focus on the running costs\. /);
  });
});

describe("a watcher with an agent filter", () => {
  it("gets only the chosen agents' events and the whole-stream ones, over SSE (?agent=) and Connect (agent_ids), and resumes exactly", async () => {
    const all: StreamEvent[] = [];
    for await (const m of sse(await postCreate(agentBody({ "simulator.input": "none" })))) all.push(m.data);
    const id = all[0]!.streamId;
    const streamWide = new Set(["started", "usage", "completed", "failed"]);
    const want = (agents: string[]) =>
      all.filter((e) => streamWide.has(e.event.case ?? "") || agents.includes(e.agentId)).map((e) => e.seq);

    const viaSse: StreamEvent[] = [];
    for await (const m of sse(await fetch(`${aw.url}/v1/streams/${id}/events?agent=planner&agent=writer`, { headers: alice })))
      viaSse.push(m.data);
    expect(viaSse.map((e) => e.seq)).toEqual(want(["planner", "writer"]));
    expect(viaSse.length).toBeLessThan(all.length);

    const client = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    const viaConnect: StreamEvent[] = [];
    for await (const { event } of client.watchStream({ streamId: id, agentIds: ["researcher"] }, { headers: alice }))
      viaConnect.push(event!);
    expect(viaConnect.map((e) => e.seq)).toEqual(want(["researcher"]));

    // Resume from the middle with the same filter (Last-Event-ID): exactly the rest.
    const mid = viaSse[Math.floor(viaSse.length / 2)]!;
    const rest: StreamEvent[] = [];
    const res = await fetch(`${aw.url}/v1/streams/${id}/events?agent=planner&agent=writer`, {
      headers: { ...alice, "last-event-id": `${mid.epoch}:${mid.seq}` },
    });
    for await (const m of sse(res)) rest.push(m.data);
    expect(rest[0]?.event.case).toBe("resumed");
    expect(rest.slice(1).map((e) => e.seq)).toEqual(want(["planner", "writer"]).filter((s) => s > mid.seq));

    // A filter over the limits is INVALID_ARGUMENT.
    const many = Array.from({ length: 33 }, (_, i) => `agent=a${i}`).join("&");
    expect(await httpError(await fetch(`${aw.url}/v1/streams/${id}/events?${many}`, { headers: alice }))).toBe("400 invalid_argument");
  });
});

describe("bad inputs get their documented errors and disturb nothing", () => {
  it("wrong choice, unknown id, foreign owner, wrong media type, answered twice and an ended stream", async () => {
    // Another stream runs meanwhile and must complete untouched.
    const otherText = (async () => {
      let text = "";
      let last: StreamEvent | undefined;
      for await (const m of sse(
        await postCreate(createBody("Tell me about lighthouses", {}, { metadata: { "simulator.output_tokens": "80" } })),
      ))
        if (m.data.event.case === "textDelta") text += m.data.event.value.text;
        else last = m.data;
      return { text, last };
    })();

    const connect = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    let streamId = "";
    const checked: string[] = [];
    for await (const m of sse(await postCreate(agentBody({ "simulator.input": "choice" })))) {
      streamId = m.data.streamId;
      if (m.data.event.case !== "inputRequested") continue;
      const inputId = m.data.event.value.inputId;
      checked.push(await httpError(await postInput(streamId, { inputId, text: "medium" })));
      checked.push(await httpError(await postInput(streamId, { inputId: "never-asked", text: "short" })));
      checked.push(await httpError(await postInput(streamId, { inputId, text: "short" }, bob)));
      checked.push(await httpError(await postInput(streamId, { inputId, text: "short" }, alice, "text/plain")));
      checked.push(await httpError(await postInput(streamId, "{not json", alice)));
      checked.push(await httpError(await postInput(streamId, { streamId: "another-stream-id-0123456789", inputId, text: "short" })));
      const wrong = await connect
        .sendInput({ streamId, inputId, text: "medium" }, { headers: alice })
        .catch((e: unknown) => ConnectError.from(e));
      expect(wrong).toMatchObject({ code: Code.InvalidArgument });
      // Now the right answer; the second one loses, over HTTP and over Connect.
      expect((await postInput(streamId, { inputId, text: "short" })).status).toBe(200);
      checked.push(await httpError(await postInput(streamId, { inputId, text: "detailed" })));
      const twice = await connect
        .sendInput({ streamId, inputId: "", text: "short" }, { headers: alice })
        .catch((e: unknown) => ConnectError.from(e));
      expect(twice).toBeInstanceOf(ConnectError);
      expect((twice as ConnectError).code).toBe(Code.FailedPrecondition);
      expect((twice as ConnectError).metadata.get("airwave-reason")).toBe("INPUT_NOT_PENDING");
    }
    expect(checked).toEqual([
      "400 invalid_argument",
      "400 failed_precondition INPUT_NOT_PENDING",
      "404 not_found",
      "415 invalid_argument",
      "400 invalid_argument",
      "400 invalid_argument",
      "400 failed_precondition INPUT_NOT_PENDING",
    ]);
    // The stream ended: STREAM_ENDED.
    expect(await httpError(await postInput(streamId, { inputId: "", text: "short" }))).toBe("400 failed_precondition STREAM_ENDED");
    const ended = await connect.sendInput({ streamId, text: "short" }, { headers: alice }).catch((e: unknown) => ConnectError.from(e));
    expect((ended as ConnectError).metadata.get("airwave-reason")).toBe("STREAM_ENDED");

    const other = await otherText;
    expect(other.last?.event.case).toBe("completed");
    expect(other.text.split(/\s+/).filter(Boolean)).toHaveLength(80);
  });
});
