import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./config.js";

describe("client-connection timeouts in the configuration", () => {
  it("defaults: headers 10 s, whole request 30 s, keep-alive 5 s, HTTP/2 idle 60 s", () => {
    expect(loadGatewayConfig({})).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      h2IdleTimeoutMs: 60_000,
    });
  });

  it("reads each variable; 0 turns one off", () => {
    const env = {
      AIRWAVE_HEADERS_TIMEOUT_MS: "0",
      AIRWAVE_REQUEST_TIMEOUT_MS: "4000",
      AIRWAVE_KEEP_ALIVE_TIMEOUT_MS: "0",
      AIRWAVE_H2_IDLE_TIMEOUT_MS: "1500",
    };
    expect(loadGatewayConfig(env)).toMatchObject({
      headersTimeoutMs: 0,
      requestTimeoutMs: 4_000,
      keepAliveTimeoutMs: 0,
      h2IdleTimeoutMs: 1_500,
    });
  });

  it("refuses a request timeout shorter than the headers timeout, naming both variables", () => {
    expect(() => loadGatewayConfig({ AIRWAVE_HEADERS_TIMEOUT_MS: "5000", AIRWAVE_REQUEST_TIMEOUT_MS: "1000" })).toThrow(
      /AIRWAVE_REQUEST_TIMEOUT_MS.*AIRWAVE_HEADERS_TIMEOUT_MS/,
    );
    expect(() => loadGatewayConfig({ AIRWAVE_H2_IDLE_TIMEOUT_MS: "soon" })).toThrow(/AIRWAVE_H2_IDLE_TIMEOUT_MS/);
  });
});
