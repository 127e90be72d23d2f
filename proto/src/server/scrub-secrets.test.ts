import { randomBytes } from "node:crypto";
import { ev } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { scrubConnectError, scrubEvent } from "./scrub-event.js";
import { createSecretScrubber, maxRequestIdLength, redactedText, safeRequestId } from "./scrub-secrets.js";

const canary = () => `cnry${randomBytes(12).toString("hex")}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("createSecretScrubber", () => {
  it("removes every configured secret and its encoded forms, wherever it appears", () => {
    const key = canary();
    const header = canary();
    const scrub = createSecretScrubber([key, undefined, header]);
    const forms = [
      key,
      header,
      encodeURIComponent(`${key}/+`),
      b64(key),
      b64(key).replace(/=+$/, ""),
      Buffer.from(key).toString("base64url"),
    ];
    for (const f of forms) {
      const out = scrub(`Incorrect API key provided: ${f}. You can find your key at x${f}y`);
      expect(out).not.toContain(key);
      expect(out).not.toContain(header);
      expect(out).not.toContain(f);
      expect(out).toContain(redactedText);
      expect(out.startsWith("Incorrect API key provided: ")).toBe(true);
    }
  });

  it("ignores configured values shorter than 8 characters, so ordinary words survive", () => {
    const scrub = createSecretScrubber(["1", "test", "k"]);
    expect(scrub("test 1: k is fine")).toBe("test 1: k is fine");
  });

  it.each([
    ["Authorization: Bearer abcdefghijklmnop123", "Authorization: [redacted]"],
    ['{"authorization":"Bearer abc.def-123"}', '{"authorization":"[redacted]"}'],
    ["x-api-key: plainletterskey", "x-api-key: [redacted]"],
    ["api-key=abc123", "api-key=[redacted]"],
    ['"x-goog-api-key": "whatever-it-is"', '"x-goog-api-key": "[redacted]"'],
    ["GET /v1beta/models?alt=sse&key=AAAA1111&x=1", "GET /v1beta/models?alt=sse&key=[redacted]&x=1"],
    ["token was Bearer 0123456789abcdef, retry", "token was Bearer [redacted], retry"],
    ["Basic dXNlcjpwYXNzd29yZDE= sent", "Basic [redacted] sent"],
    ["key sk-proj-AbCdEf0123456789xyz is bad", "key [redacted] is bad"],
    ["key sk-ant-api03-AbCdEf0123456789 is bad", "key [redacted] is bad"],
    ["Incorrect API key provided: sk-1234************************abcd.", "Incorrect API key provided: [redacted]."],
    ["google AIzaSyA-1234567890abcdefghijklmnopqrstu!", "google [redacted]!"],
    ["gsk_0123456789abcdefABCDEF hf_abcdefghijklmnop1234 xai-abcdefghijklmnop1234", "[redacted] [redacted] [redacted]"],
    ["oauth ya29.a0AfH6SMBx-abcdefghijkl", "oauth [redacted]"],
    ["aws AKIAIOSFODNN7EXAMPLE end", "aws [redacted] end"],
    ["jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt [redacted]"],
  ])("removes the credential shape in %j", (text, want) => {
    expect(createSecretScrubber()(text)).toBe(want);
  });

  it.each([
    "the inference provider refused the request (HTTP 400): 'messages' must contain the word json",
    "Basic authentication failed; Bearer token missing",
    "model gpt-4.1-mini does not exist; task-1234 risk-assessment",
    "日本語 🎉 / : ; , ? = % \" '",
    "Authorization failed for this request",
  ])("leaves ordinary text alone: %j", (text) => {
    expect(createSecretScrubber([canary()])(text)).toBe(text);
  });

  it("is idempotent", () => {
    const key = canary();
    const scrub = createSecretScrubber([key]);
    const once = scrub(`Authorization: Bearer ${key} and sk-proj-abcdefghijklmnop1234 and ${key}`);
    expect(scrub(once)).toBe(once);
    expect(once).not.toContain(key);
  });
});

describe("safeRequestId", () => {
  const scrub = createSecretScrubber(["cnry-the-configured-key"]);
  it.each([
    ["req_011CX2abc", "req_011CX2abc"],
    ["chatcmpl-9a8b.7c:6d", "chatcmpl-9a8b.7c:6d"],
    ["Bearer cnry-the-configured-key", ""],
    ["cnry-the-configured-key", ""],
    ["sk-proj-abcdefghijklmnop1234", ""],
    ["id with spaces", ""],
    ["id/slash", ""],
    ["a".repeat(maxRequestIdLength), "a".repeat(maxRequestIdLength)],
    ["a".repeat(maxRequestIdLength + 1), ""],
    ["", ""],
  ])("%j → %j", (v, want) => {
    expect(safeRequestId(v, scrub)).toBe(want);
  });
  it("drops a missing header", () => expect(safeRequestId(null, scrub)).toBe(""));
});

describe("scrubEvent and scrubConnectError", () => {
  const key = canary();
  const scrub = createSecretScrubber([key]);

  it("scrubs the upstream text of events and leaves model output alone", () => {
    const started = scrubEvent(ev.started("m", "p", `Bearer ${key}`), scrub);
    expect(started.event.case === "started" && started.event.value.requestId).toBe("");
    const failed = scrubEvent(ev.failed(Code.InvalidArgument, `bad key ${key}`, "UPSTREAM_REJECTED"), scrub);
    expect(failed.event.case === "failed" && failed.event.value.message).toBe(`bad key ${redactedText}`);
    const delta = ev.textDelta(`the model says ${key}`);
    delta.providerMetadata = { logprobs: [{ token: key }], [key]: "x" };
    const out = scrubEvent(delta, scrub);
    expect(out.event.case === "textDelta" && out.event.value.text).toBe(`the model says ${key}`);
    expect(JSON.stringify(out.providerMetadata)).not.toContain(key);
  });

  it("rebuilds an error only when its message or cause held a secret, keeping code and metadata", () => {
    const clean = new ConnectError("nothing here", Code.NotFound);
    expect(scrubConnectError(clean, scrub)).toBe(clean);
    const dirty = new ConnectError(`refused ${key}`, Code.InvalidArgument, { "airwave-reason": "UPSTREAM_INVALID_REQUEST" }, undefined, {
      status: 400,
      body: `{"error":"${key}"}`,
    });
    const out = scrubConnectError(dirty, scrub) as ConnectError;
    expect(out.rawMessage).toBe(`refused ${redactedText}`);
    expect(out.code).toBe(Code.InvalidArgument);
    expect(out.metadata.get("airwave-reason")).toBe("UPSTREAM_INVALID_REQUEST");
    expect(JSON.stringify(out.cause)).not.toContain(key);
    const other = new Error(key);
    expect(scrubConnectError(other, scrub)).toBe(other);
  });
});
