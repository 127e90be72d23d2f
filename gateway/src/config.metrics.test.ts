import { ConfigError } from "@airwave/proto/server";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./config.js";

describe("AIRWAVE_METRICS", () => {
  it("is on unless set to off (any case)", () => {
    expect(loadGatewayConfig({}).metricsEnabled).toBe(true);
    expect(loadGatewayConfig({ AIRWAVE_METRICS: "on" }).metricsEnabled).toBe(true);
    expect(loadGatewayConfig({ AIRWAVE_METRICS: "OFF" }).metricsEnabled).toBe(false);
  });

  it("refuses anything but on and off, naming the variable", () => {
    expect(() => loadGatewayConfig({ AIRWAVE_METRICS: "yes" })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ AIRWAVE_METRICS: "yes" })).toThrow(/AIRWAVE_METRICS must be "on" or "off"/);
  });
});
