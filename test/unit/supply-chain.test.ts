// Supply chain, kept by review and by these checks (the registry mirror answers no `npm audit`):
// the production dependency tree is pinned by the lockfile, listed in a reviewed file that fails
// this test when it grows, and carries no install scripts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";

interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  devOptional?: boolean;
  hasInstallScript?: boolean;
}

const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, LockPackage>;
};
const production = Object.entries(lock.packages).filter(
  ([path, p]) => path !== "" && p.dev !== true && p.devOptional !== true,
);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

describe("supply chain", () => {
  it("has the reviewed production dependency tree, no more and no less", () => {
    const names = [...new Set(production.map(([path]) => path.split("node_modules/").at(-1) ?? path))].sort();
    const reviewed = readFileSync(join(REPO_ROOT, "test/fixtures/production-dependencies.txt"), "utf8")
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(names).toEqual(reviewed);
  });

  it("pins every direct production dependency to an exact version", () => {
    for (const [name, range] of Object.entries(pkg.dependencies))
      expect(range, name).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      "@kubernetes/client-node",
      "pino",
      "prom-client",
      "yaml",
    ]);
  });

  it("runs no install scripts in production dependencies", () => {
    expect(production.filter(([, p]) => p.hasInstallScript === true).map(([path]) => path)).toEqual([]);
  });

  it("locks every production package to a version", () => {
    expect(production.filter(([, p]) => p.version === undefined).map(([path]) => path)).toEqual([]);
  });
});
