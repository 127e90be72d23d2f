import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { minNodeMajor, unsupportedNodeMessage } from "./supported-node.js";

describe("unsupportedNodeMessage", () => {
  it("refuses an older Node in one line naming the version needed, accepts the supported ones", () => {
    const line = unsupportedNodeMessage("v20.20.2");
    expect(line).toContain(`Node.js ${minNodeMajor} or newer`);
    expect(line).toContain("v20.20.2");
    expect(line).not.toContain("\n");
    expect(unsupportedNodeMessage(`v${minNodeMajor - 1}.99.0`)).toBeDefined();
    expect(unsupportedNodeMessage(`v${minNodeMajor}.0.0`)).toBeUndefined();
    expect(unsupportedNodeMessage("v26.1.0")).toBeUndefined();
    expect(unsupportedNodeMessage("nonsense")).toBeDefined();
  });

  it("lets the running (supported) Node import it without a word", () => {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(resolve(import.meta.dirname, "supported-node.ts"))}); console.log("ok")`,
      ],
      {
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe("ok");
  });
});
