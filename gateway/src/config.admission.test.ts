import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./config.js";

describe("admission control and the accept queue in the configuration", () => {
  it("defaults: loop delay 100 ms, loop busy 90 % of a 250 ms window, 20,000 watches, 85 % of the log memory, retry after 1 s, backlog 4096", () => {
    expect(loadGatewayConfig({})).toMatchObject({
      admissionMaxLoopDelayMs: 100,
      admissionMaxLoopBusyPercent: 90,
      admissionWindowMs: 250,
      admissionMaxWatches: 20_000,
      admissionLogPercent: 85,
      admissionRetryAfterMs: 1_000,
      listenBacklog: 4_096,
    });
  });

  it("reads each variable; 0 turns a signal off; percentages stop at 100, the window at 50 ms and the retry at 1 ms", () => {
    const env = {
      AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS: "0",
      AIRWAVE_ADMISSION_MAX_LOOP_BUSY_PERCENT: "150",
      AIRWAVE_ADMISSION_WINDOW_MS: "10",
      AIRWAVE_ADMISSION_MAX_WATCHES: "0",
      AIRWAVE_ADMISSION_LOG_PERCENT: "50",
      AIRWAVE_ADMISSION_RETRY_AFTER_MS: "0",
      AIRWAVE_LISTEN_BACKLOG: "1024",
    };
    expect(loadGatewayConfig(env)).toMatchObject({
      admissionMaxLoopDelayMs: 0,
      admissionMaxLoopBusyPercent: 100,
      admissionWindowMs: 50,
      admissionMaxWatches: 0,
      admissionLogPercent: 50,
      admissionRetryAfterMs: 1,
      listenBacklog: 1_024,
    });
    expect(() => loadGatewayConfig({ AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS: "soon" })).toThrow(/AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS/);
  });
});
