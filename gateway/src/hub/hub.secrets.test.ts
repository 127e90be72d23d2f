import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { CreateStreamRequestSchema, ev, type GenerateRequest, InferenceService, type StreamEvent } from "@airwave/proto";
import { afterEach, describe, expect, it } from "vitest";
import { Hub } from "./hub.js";
import { interactWith } from "../testing/interact-with.js";

const apiKey = `key${randomBytes(12).toString("hex")}`;
const cookieSecret = `cookie${randomBytes(16).toString("hex")}`;

/** An inference service that echoes the gateway's secrets (as an upstream echoing the prompt would). */
function echoingUpstream() {
  const transport = createRouterTransport(({ service }) => {
    async function* generate(req: GenerateRequest, _ctx: HandlerContext) {
      const echo = `${apiKey} ${cookieSecret} Bearer sk-proj-abcdefghijklmnop1234`;
      if (req.model === "refuse") {
        throw new ConnectError(`refused: ${echo}`, Code.InvalidArgument, { "airwave-reason": "UPSTREAM_INVALID_REQUEST" });
      }
      yield { event: ev.started(req.model, "fake", `Bearer ${apiKey}`) };
      yield { event: ev.textDelta(`model output ${apiKey}`) };
      yield { event: ev.failed(Code.InvalidArgument, `the provider said: ${echo}`, "UPSTREAM_REJECTED") };
    }
    service(InferenceService, { generate, interact: (reqs, ctx) => interactWith(generate, reqs, ctx) });
  });
  return createClient(InferenceService, transport);
}

const opts = { detachGraceMs: 1000, streamTtlMs: 60_000, logMaxEvents: 100, maxStreams: 10, generationTimeoutMs: 60_000 };
const req = (model: string) =>
  create(CreateStreamRequestSchema, { request: { model, messages: [{ role: 2, parts: [{ part: { case: "text", value: "hi" } }] }] } });

describe("Hub: the gateway's own secrets", () => {
  let hub: Hub | undefined;
  afterEach(async () => {
    await hub?.close();
  });

  it("are scrubbed from the started request id, the failed message and refusal messages; model output is not", async () => {
    hub = new Hub(echoingUpstream(), { ...opts, secrets: [apiKey, cookieSecret] });
    const id = await hub.create("alice", req("echo"));
    const events: StreamEvent[] = [];
    for await (const e of hub.watch("alice", id, "", new AbortController().signal)) events.push(e);
    const [started, delta, failed] = events.map((e) => e.event);
    expect(started?.case === "started" && started.value.requestId).toBe("");
    expect(delta?.case === "textDelta" && delta.value.text).toBe(`model output ${apiKey}`);
    expect(failed?.case === "failed" && failed.value.message).toBe("the provider said: [redacted] [redacted] Bearer [redacted]");

    const refusal = await hub.create("alice", req("refuse")).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(refusal?.code).toBe(Code.InvalidArgument);
    expect(refusal?.rawMessage).toBe("refused: [redacted] [redacted] Bearer [redacted]");
    expect(refusal?.metadata.get("airwave-reason")).toBe("UPSTREAM_INVALID_REQUEST");
  });
});
