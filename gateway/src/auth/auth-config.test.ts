import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../config.js";

describe("identity and edge configuration", () => {
  it("defaults: no keys, optional auth, a random cookie secret, documented caps", () => {
    const c = loadGatewayConfig({});
    expect(c).toMatchObject({
      apiKeys: [],
      authMode: "optional",
      cookieSecret: undefined,
      maxDeadlineMs: 600_000,
      longPollMaxWaitMs: 25_000,
    });
  });

  it("keys from the variable and the file; keys make auth required unless told otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), "airwave-keys-"));
    const file = join(dir, "keys");
    writeFileSync(file, "# ops\nbob:bbbbbbbbbbbbbbbb\n");
    const c = loadGatewayConfig({ AIRWAVE_API_KEYS: "alice:aaaaaaaaaaaaaaaa", AIRWAVE_API_KEYS_FILE: file });
    expect(c.apiKeys.map((k) => k.name)).toEqual(["alice", "bob"]);
    expect(c.authMode).toBe("required");
    expect(loadGatewayConfig({ AIRWAVE_API_KEYS: "alice:aaaaaaaaaaaaaaaa", AIRWAVE_AUTH: "optional" }).authMode).toBe("optional");
    expect(() => loadGatewayConfig({ AIRWAVE_API_KEYS: "alice:aaaaaaaaaaaaaaaa", AIRWAVE_API_KEYS_FILE: join(dir, "none") })).toThrow();
    // The same name in both sources.
    expect(() => loadGatewayConfig({ AIRWAVE_API_KEYS: "bob:cccccccccccccccc", AIRWAVE_API_KEYS_FILE: file })).toThrow(/appears twice/);
  });

  it.each([
    [{ AIRWAVE_AUTH: "required" }, /AIRWAVE_AUTH=required needs/],
    [{ AIRWAVE_AUTH: "sometimes" }, /AIRWAVE_AUTH must be/],
    [{ AIRWAVE_COOKIE_SECRET: "short" }, /AIRWAVE_COOKIE_SECRET must be at least 32/],
    [{ AIRWAVE_MAX_DEADLINE_MS: "-1" }, /AIRWAVE_MAX_DEADLINE_MS/],
    [{ AIRWAVE_API_KEYS: "alice:short" }, /AIRWAVE_API_KEYS: entry 1/],
  ])("refuses %o at start-up", (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });
});
