import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyOf, expectSameEventsForAnySplit, expectSameEventsInPieces, piecesOf } from "../../testing/feed-body.js";
import { kinds, terminalEventOf as terminal, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";
import { decodeTgiStream } from "./decode-tgi-stream.js";

/** Feeds `pieces` as the body and collects the events. */
const decodePieces = (pieces: readonly Uint8Array[]): Promise<StreamEvent[]> => Array.fromAsync(decodeTgiStream(bodyOf(pieces)));

/** Feeds `bytes` in chunks of `size` bytes (0 = whole). */
const decode = (bytes: Uint8Array, size = 0) => decodePieces(piecesOf(bytes, size));

const decodeText = (text: string, size = 0) => decode(new TextEncoder().encode(text), size);
const sse = (...events: unknown[]) => events.map((e) => `data:${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("");
const tok = (index: number, text: string, o: { special?: boolean; final?: object } = {}) => ({
  index,
  token: { id: 100 + index, text, logprob: -0.5, special: o.special ?? false },
  generated_text: o.final ? "full text" : null,
  details: o.final && Object.keys(o.final).length > 0 ? o.final : null,
});

/** What a /generate_stream transcript says, read from its text independently of the mapper. */
function expectations(text: string) {
  const out = {
    text: "",
    specials: [] as string[],
    generated: undefined as string | undefined,
    details: undefined as Record<string, unknown> | undefined,
    error: undefined as { error: string; error_type: string } | undefined,
  };
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const j = JSON.parse(line.slice(5));
    if (j.error) {
      out.error = j;
      break;
    }
    if (j.token.special) out.specials.push(j.token.text);
    else out.text += j.token.text;
    if (typeof j.generated_text === "string") {
      out.generated = j.generated_text;
      out.details = j.details ?? undefined;
      break;
    }
  }
  return out;
}

describeKindFixtures("decodeTgiStream over /generate_stream bodies", "tgi", "every", { project: 4, shared: 5 }, (fixtures) => {
  it("finds the /generate_stream transcripts only under tgi/", () => {
    for (const f of fixtures) expect(f.name).toMatch(/^tgi\/(generate-stream|error)-/);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, f) => {
    it("gives identical events for 1-byte, 7-byte, 64-byte and whole chunks", async () => {
      terminal(await expectSameEventsInPieces(f.bytes, decode));
    });

    it("gives the same events for random splits of the body", async () => {
      await expectSameEventsForAnySplit(f.bytes, decodePieces, { numRuns: 25, maxCuts: 20 });
    });

    it("maps the text, the terminal marker, the finish reason and usage as the transcript says", async () => {
      const want = expectations(new TextDecoder().decode(f.bytes));
      const evs = await decode(f.bytes);
      const end = terminal(evs);
      expect(textOf(evs)).toBe(want.text);
      for (const s of want.specials) expect(textOf(evs)).not.toContain(s);
      if (want.error) {
        expect(end.event.case).toBe("failed");
        if (end.event.case !== "failed") return;
        expect(end.event.value.code).toBe(toProtoCode(want.error.error_type === "validation" ? Code.InvalidArgument : Code.Unavailable));
        if (want.error.error_type === "validation") expect(end.event.value.message).toContain(want.error.error.slice(0, 40));
        return;
      }
      expect(want.generated).toBeDefined();
      // TGI's generated_text is the streamed non-special tokens (after the prompt when return_full_text was on;
      // TGI's decoder may trim surrounding spaces).
      expect(want.generated!.trim().endsWith(want.text.trim())).toBe(true);
      expect(end.event.case).toBe("completed");
      if (end.event.case !== "completed") return;
      const raw = (want.details?.["finish_reason"] as string | undefined) ?? "";
      expect(end.event.value.rawFinishReason).toBe(raw);
      expect(end.event.value.finishReason).toBe(
        raw === "length" ? FinishReason.LENGTH : raw === "" ? FinishReason.UNSPECIFIED : FinishReason.STOP,
      );
      if (want.details) {
        expect(end.event.value.usage?.outputTokens).toBe(want.details["generated_tokens"]);
        expect(end.event.value.usage?.inputTokens).toBe(want.details["input_length"]);
        expect(end.providerMetadata).toMatchObject({ details: want.details });
        expect(evs.some((e) => e.event.case === "usage")).toBe(true);
      } else {
        expect(end.event.value.usage).toBeUndefined();
        expect(evs.some((e) => e.event.case === "usage")).toBe(false);
      }
      if (want.specials.length > 0) {
        expect((end.providerMetadata!["special_tokens"] as { text: string }[]).map((t) => t.text)).toEqual(want.specials);
      }
      // Every text delta keeps its token's logprob.
      for (const e of evs.filter((x) => x.event.case === "textDelta")) expect(e.providerMetadata?.["token"]).toHaveProperty("logprob");
    });

    it("never throws and ends with exactly one terminal when garbage events are inserted", async () => {
      const events = new TextDecoder().decode(f.bytes).split(/(?<=\n\n)/);
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(
              fc.nat(),
              fc.oneof(fc.string(), fc.json(), fc.constantFrom(": ping", "event: x", "data: {}", "data: [1]", "retry: 5")),
            ),
            { maxLength: 4 },
          ),
          async (inserts) => {
            const out = [...events];
            for (const [at, g] of inserts)
              out.splice(
                at % (out.length + 1),
                0,
                g.startsWith("data:") || g.startsWith(":") || g.includes(": ") ? `${g}\n\n` : `data: ${g}\n\n`,
              );
            const evs = await decodeText(out.join(""));
            terminal(evs);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});

describe("decodeTgiStream", () => {
  it("streams tokens as text with their logprobs, and completes on generated_text with details", async () => {
    const final = { finish_reason: "eos_token", generated_tokens: 3, input_length: 7, seed: 42 };
    const evs = await decodeText(sse(tok(1, "Hel"), tok(2, "lo"), tok(3, "</s>", { special: true, final })));
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "usage", "completed"]);
    expect(textOf(evs)).toBe("Hello");
    expect(evs[0]!.providerMetadata).toEqual({ token: { id: 101, logprob: -0.5 } });
    const end = terminal(evs);
    expect(end.event).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.STOP, rawFinishReason: "eos_token", usage: { inputTokens: 7, outputTokens: 3 } },
    });
    expect(end.providerMetadata).toEqual({ details: final, special_tokens: [{ index: 3, id: 103, text: "</s>", logprob: -0.5 }] });
  });

  it("maps finish reasons length and stop_sequence", async () => {
    const length = terminal(await decodeText(sse(tok(1, "a", { final: { finish_reason: "length", generated_tokens: 1 } }))));
    expect(length.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.LENGTH, rawFinishReason: "length" } });
    const stop = terminal(await decodeText(sse(tok(1, "a", { final: { finish_reason: "stop_sequence", generated_tokens: 1 } }))));
    expect(stop.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("completes with UNSPECIFIED, no raw reason and no usage when details were not sent", async () => {
    const evs = await decodeText(sse(tok(1, "a"), tok(2, "b", { final: {} })));
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "completed"]);
    const end = terminal(evs);
    expect(end.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.UNSPECIFIED, rawFinishReason: "" } });
    expect(end.event.case === "completed" && end.event.value.usage).toBeUndefined();
    expect(end.providerMetadata).toBeUndefined();
  });

  it("keeps top_tokens in the metadata when TGI sends them", async () => {
    const top = [{ id: 1, text: "a", logprob: -0.1, special: false }];
    const evs = await decodeText(sse({ ...tok(1, "a"), top_tokens: top }, tok(2, "b", { final: {} })));
    expect(evs[0]!.providerMetadata).toEqual({ token: { id: 101, logprob: -0.5 }, top_tokens: top });
  });

  it("fails UNAVAILABLE UPSTREAM_TRUNCATED (retryable) without the generated_text event", async () => {
    for (const body of [sse(tok(1, "cut")), "", sse(tok(1, "a"), "[DONE]")]) {
      const end = terminal(await decodeText(body));
      expect(end.event).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
  });

  it("maps an error event by error_type, keeping the text streamed before it", async () => {
    const overloaded = await decodeText(sse(tok(1, "a"), { error: "Model is overloaded", error_type: "overloaded" }));
    expect(kinds(overloaded)).toEqual(["textDelta", "failed"]);
    expect(terminal(overloaded).event).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_OVERLOADED", retryable: true },
    });
    const validation = terminal(await decodeText(sse({ error: "Input validation error: bad", error_type: "validation" })));
    expect(validation.event).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.InvalidArgument), retryable: false } });
  });

  it("turns a non-JSON or non-object event into failed INTERNAL UPSTREAM_MALFORMED, and stops there", async () => {
    for (const bad of ["{nope", "42", "null"]) {
      const evs = await decodeText(sse(tok(1, "a"), bad, tok(2, "b", { final: {} })));
      expect(kinds(evs)).toEqual(["textDelta", "failed"]);
      expect(terminal(evs).event).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" },
      });
    }
  });

  it("ignores events after the last one, odd tokens, SSE comments and CRLF framing", async () => {
    const body =
      `: keep-alive\r\n\r\n${sse({ index: 1, token: "odd" }, { index: 2, token: { text: 5 } }, tok(3, "ok", { final: {} }), tok(4, "late"))}`.replaceAll(
        "\n\n",
        "\r\n\r\n",
      );
    const evs = await decodeText(body, 3);
    expect(kinds(evs)).toEqual(["textDelta", "completed"]);
    expect(textOf(evs)).toBe("ok");
  });
});
