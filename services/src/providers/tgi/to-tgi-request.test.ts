import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { GenerateRequestSchema, type MessageSchema, ReasoningEffort, Role } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { renderTgiPrompt } from "./render-tgi-prompt.js";
import { tgiSpec } from "./tgi-spec.js";
import { toTgiRequest } from "./to-tgi-request.js";

type MessageInit = MessageInitShape<typeof MessageSchema>;

const msg = (role: Role, ...texts: string[]): MessageInit => ({ role, parts: texts.map((t) => ({ part: { case: "text", value: t } })) });
const request = (init: MessageInitShape<typeof GenerateRequestSchema>) => create(GenerateRequestSchema, { model: "tgi/x", ...init });

describe("renderTgiPrompt", () => {
  it("passes a lone user message verbatim", () => {
    expect(renderTgiPrompt(request({ messages: [msg(Role.USER, "Once upon", "a time")] }).messages)).toBe("Once upon\na time");
  });

  it("renders a conversation as a labelled transcript that ends with the assistant's turn", () => {
    const messages = request({
      messages: [msg(Role.SYSTEM, "Be brief."), msg(Role.USER, "Hi"), msg(Role.ASSISTANT, "Hello."), msg(Role.USER, "Why?")],
    }).messages;
    expect(renderTgiPrompt(messages)).toBe("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Why?\n\nAssistant:");
  });

  it("leaves a last assistant message open for the model to continue", () => {
    const messages = request({ messages: [msg(Role.USER, "Count"), msg(Role.ASSISTANT, "1, 2,")] }).messages;
    expect(renderTgiPrompt(messages)).toBe("User: Count\n\nAssistant: 1, 2,");
  });

  it("refuses tool parts with INVALID_ARGUMENT", () => {
    const messages = request({
      messages: [
        msg(Role.USER, "x"),
        { role: Role.ASSISTANT, parts: [{ part: { case: "toolCall", value: { callId: "c", name: "f", argumentsJson: "{}" } } }] },
      ],
    }).messages;
    expect(() => renderTgiPrompt(messages)).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
    expect(() => renderTgiPrompt(messages)).toThrow(/messages\[1\]/);
  });
});

describe("toTgiRequest", () => {
  it("maps sampling to parameters and always asks for details", () => {
    const body = toTgiRequest(
      request({
        messages: [msg(Role.USER, "Hi")],
        temperature: 0.5,
        topP: 0.9,
        maxOutputTokens: 64,
        stopSequences: ["\n\n"],
        seed: 42n,
        reasoning: { effort: ReasoningEffort.HIGH },
        metadata: { k: "v" },
      }),
    );
    expect(body).toEqual({
      inputs: "Hi",
      parameters: { details: true, temperature: 0.5, top_p: 0.9, max_new_tokens: 64, stop: ["\n\n"], seed: 42 },
    });
  });

  it("leaves out what TGI refuses: temperature 0 (greedy) and top_p 1; top_p 0 → top_k 1", () => {
    expect(toTgiRequest(request({ messages: [msg(Role.USER, "Hi")], temperature: 0, topP: 1 })).parameters).toEqual({ details: true });
    expect(toTgiRequest(request({ messages: [msg(Role.USER, "Hi")], topP: 0 })).parameters).toEqual({ details: true, top_k: 1 });
  });

  it("refuses tools and seeds TGI cannot take", () => {
    const tools = request({ messages: [msg(Role.USER, "Hi")], tools: [{ name: "f" }] });
    expect(() => toTgiRequest(tools)).toThrow(ConnectError);
    expect(() => toTgiRequest(request({ messages: [msg(Role.USER, "Hi")], seed: -1n }))).toThrow(/seed/);
    expect(() => toTgiRequest(request({ messages: [msg(Role.USER, "Hi")], seed: 2n ** 60n }))).toThrow(/seed/);
  });
});

describe("tgiSpec.request", () => {
  it("posts to /generate_stream with bearer auth and the configured headers", () => {
    const r = tgiSpec.request(request({ messages: [msg(Role.USER, "Hi")] }), "ignored", {
      baseUrl: "http://tgi:8080",
      apiKey: "hf_secret",
      headers: { "x-extra": "1" },
    });
    expect(r.url).toBe("http://tgi:8080/generate_stream");
    expect(r.headers).toMatchObject({ authorization: "Bearer hf_secret", "content-type": "application/json", "x-extra": "1" });
    expect(JSON.parse(r.body)).toEqual({ inputs: "Hi", parameters: { details: true } });
    const anon = tgiSpec.request(request({ messages: [msg(Role.USER, "Hi")] }), "m", { baseUrl: "http://tgi" });
    expect(anon.headers).not.toHaveProperty("authorization");
  });
});
