import { InferenceClient } from "@huggingface/inference";
import { expect } from "vitest";
import { tgiSpec } from "../../services/src/providers/tgi/tgi-spec.js";
import { accumulate, Code, FinishReason } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison, plainUsage } from "../support/fixtures.js";

/**
 * Differential test: every TGI `/generate_stream` transcript is read by the
 * official SDK (`@huggingface/inference`, `InferenceClient` with
 * `endpointUrl` = the replay server, `textGenerationStream`) and by
 * Airwave's `tgi` spec from the same local replay server, and both must add
 * up to the same text, finish reason and usage.
 *
 * The SDK posts to `{endpointUrl}/v1/completions` with the model in the
 * body's `model`, which names the fixture for the replay server; it hands
 * out TGI's events as they are, so the SDK side accumulates them here:
 * `token.text` of tokens that are not `special` (the SDK documents
 * `special` as the flag to "ignore tokens when concatenating"), the last
 * event's `details.finish_reason`, and `details.input_length` /
 * `details.generated_tokens` as input / output tokens. TGI's native API has
 * no reasoning and no tools, so those are empty on both sides. Where the
 * SDK throws (an error event in the stream), Airwave must end with the
 * failure mapped from the event's `error_type`.
 */

interface SdkSide {
  text: string;
  finishRaw: string | undefined;
  usage: Record<string, number> | undefined;
  events: number;
  error: Error | undefined;
}

async function readWithSdk(origin: string, file: string): Promise<SdkSide> {
  const client = new InferenceClient("", { endpointUrl: origin });
  const out: SdkSide = { text: "", finishRaw: undefined, usage: undefined, events: 0, error: undefined };
  try {
    for await (const e of client.textGenerationStream({ model: file, inputs: "hi", parameters: { details: true } })) {
      out.events++;
      if (!e.token.special) out.text += e.token.text;
      const d = e.details as (typeof e.details & { input_length?: number }) | null;
      if (d) {
        out.finishRaw = d.finish_reason;
        const usage: Record<string, number> = {};
        if (typeof d.input_length === "number") usage["inputTokens"] = d.input_length;
        if (typeof d.generated_tokens === "number") usage["outputTokens"] = d.generated_tokens;
        out.usage = usage;
      }
    }
  } catch (e) {
    out.error = e as Error;
  }
  return out;
}

/** The FinishReason TGI's documented finish reasons stand for (read independently of the mapper's table). */
const finishTable: Record<string, FinishReason> = {
  eos_token: FinishReason.STOP,
  stop_sequence: FinishReason.STOP,
  length: FinishReason.LENGTH,
};

describeSdkComparison(
  "tgi: @huggingface/inference and Airwave read the same streams alike",
  "tgi",
  ["tgi"],
  { project: 4, shared: 5 },
  async (replay, file) => {
    const sdk = await readWithSdk(replay.origin, file);
    // What the notable recordings exercise, on the SDK side (so neither side can pass by reading nothing).
    if (file.startsWith("error-")) expect(sdk.error?.message).toContain("Input validation error");
    else {
      expect(sdk.error).toBeUndefined();
      expect(sdk.events).toBeGreaterThan(0);
    }
    if (file.includes("details")) expect(sdk.finishRaw).toBe("length");

    const endpoint = { baseUrl: replay.origin, headers: { "x-replay-fixture": file } };
    const a = accumulate(await airwaveEvents(tgiSpec, file, endpoint, { path: "/generate_stream" }));
    expect(a.terminals).toBe(1);
    expect(a.reasoning).toBe("");
    expect(a.toolCalls).toEqual([]);

    if (sdk.error !== undefined) {
      // The SDK throws on `{"error": …, "error_type": "validation"}`; Airwave ends with INVALID_ARGUMENT and TGI's message.
      expect(a.failed).toMatchObject({ code: Code.InvalidArgument, reason: "UPSTREAM_REJECTED", retryable: false });
      expect(sdk.error.message).toContain(a.failed!.message.split(": ").slice(1).join(": "));
      expect(a.text).toBe(sdk.text);
      return;
    }
    expect(a.failed).toBeUndefined();
    expect(a.text).toBe(sdk.text);
    expect(plainUsage(a.usage)).toEqual(sdk.usage);
    // Without details (recordings made without `details: true`) there is no finish reason: raw "" and UNSPECIFIED.
    expect(a.rawFinishReason).toBe(sdk.finishRaw ?? "");
    expect(a.finishReason).toBe(sdk.finishRaw === undefined ? FinishReason.UNSPECIFIED : finishTable[sdk.finishRaw]);
  },
);
