import { describe, expect, it } from "vitest";
import { startTracing, tracingWanted } from "./tracing.js";

describe("tracingWanted", () => {
  it("is off unless an OTLP endpoint or a traces exporter is named", () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER: "always_on" })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
  });

  it("is off when the exporter is none or the SDK is disabled, whatever else is set", () => {
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(false);
    expect(tracingWanted({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(false);
  });

  it("startTracing loads nothing and returns undefined when off", async () => {
    expect(await startTracing("airwave-test", {})).toBeUndefined();
  });
});
