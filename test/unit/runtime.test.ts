import { describe, expect, it } from "vitest";

describe("runtime", () => {
  it("runs on Node 24 LTS from the node devDependency, not the system Node", () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});
