import type { GenerateRequest } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { renderTgiPrompt } from "./render-tgi-prompt.js";

/** The JSON body of TGI's `POST /generate_stream` that {@link toTgiRequest} builds. */
export interface TgiGenerateRequest {
  inputs: string;
  parameters: {
    details: true;
    max_new_tokens?: number;
    temperature?: number;
    top_p?: number;
    top_k?: number;
    stop?: string[];
    seed?: number;
  };
}

/**
 * Maps a validated {@link GenerateRequest} to the body of TGI's native
 * `POST /generate_stream`.
 *
 * - `inputs`: the messages rendered by `renderTgiPrompt` (a plain
 *   transcript; chat models belong on TGI's Messages API, the `openai-chat`
 *   kind).
 * - `parameters.details: true` always, so the last event reports the finish
 *   reason and token counts.
 * - `max_output_tokens` → `max_new_tokens` (unset: TGI's default, which is
 *   20 tokens before TGI 2.0 and the remaining context after);
 *   `stop_sequences` → `stop`; `seed` → `seed` (TGI takes an unsigned
 *   64-bit seed).
 * - `temperature` > 0 → `temperature` (which turns sampling on); 0 → left
 *   out, so TGI decodes greedily (it refuses a temperature of 0).
 * - `top_p` in (0, 1) → `top_p`; 1 → left out (no nucleus cut, TGI refuses
 *   1.0); 0 → `top_k: 1` (only the most likely token, which is what a zero
 *   mass means; TGI refuses 0).
 * - Tools, tool choice, reasoning and metadata have no native equivalent and
 *   are not sent (tool parts and tools are refused, see below).
 *
 * Raises a ConnectError with Code.InvalidArgument when the request has
 * tools or tool parts, or a seed that is negative or beyond 2^53 (JSON
 * numbers lose precision there).
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 */
export function toTgiRequest(req: GenerateRequest): TgiGenerateRequest {
  if (req.tools.length > 0) {
    throw new ConnectError("tools: tgi's native API has no tools; use the openai-chat kind with TGI's Messages API", Code.InvalidArgument);
  }
  const parameters: TgiGenerateRequest["parameters"] = { details: true };
  if (req.maxOutputTokens !== undefined) parameters.max_new_tokens = req.maxOutputTokens;
  if (req.temperature !== undefined && req.temperature > 0) parameters.temperature = req.temperature;
  if (req.topP !== undefined && req.topP > 0 && req.topP < 1) parameters.top_p = req.topP;
  if (req.topP !== undefined && req.topP <= 0) parameters.top_k = 1;
  if (req.stopSequences.length > 0) parameters.stop = [...req.stopSequences];
  if (req.seed !== undefined) {
    if (req.seed < 0n || req.seed > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ConnectError("seed: must be within 0..2^53 for tgi", Code.InvalidArgument);
    }
    parameters.seed = Number(req.seed);
  }
  return { inputs: renderTgiPrompt(req.messages), parameters };
}
