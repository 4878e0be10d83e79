// No container engine runs here, so the image's invariants are checked by reading the Dockerfile:
// multi-stage on Node 24, non-root, production dependencies only (installed without scripts), an
// entry point that the TypeScript build really emits, and a build context (.dockerignore) that
// holds what the Dockerfile copies and nothing it must not. Also: the chart's CRD is the CRD.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";

const exec = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile → stages of instructions (continuations joined, comments and directives dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue; // a comment inside a continued instruction
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = "";
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const keyword = (match[1] ?? "").toUpperCase();
    const args = match[2] ?? "";
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (from === null) throw new Error(`cannot read FROM ${args}`);
      stages.push({ image: from[1] ?? "", name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) continue; // ARG before the first FROM
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

function last(stage: Stage, keyword: string): string {
  const found = all(stage, keyword).at(-1);
  if (found === undefined) throw new Error(`stage ${stage.name ?? stage.image} has no ${keyword}`);
  return found;
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === "string")) {
    throw new Error(`not an exec-form (JSON array) instruction: ${args}`);
  }
  return parsed;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function copies(stage: Stage): Copy[] {
  return all(stage, "COPY").map((args) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith("--"));
    const paths = words.filter((w) => !w.startsWith("--"));
    const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" };
  });
}

/** Where `path` lands in a stage: relative to its WORKDIR. */
function absolute(stage: Stage, path: string): string {
  const workdir = all(stage, "WORKDIR").at(-1) ?? "/";
  return posix.resolve(workdir, path);
}

/**
 * .dockerignore the way Docker reads it (moby/patternmatcher): patterns in order, the last one
 * that matches the path or one of its parent folders wins; `!` re-includes; `*` stays within one
 * path segment, `**` spans any number of them; dot-files are not special.
 */
function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const include = l.startsWith("!");
      const body = posix.normalize((include ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, "");
      let source = "";
      for (let i = 0; i < body.length; i++) {
        const c = body.charAt(i);
        if (c === "*" && body[i + 1] === "*") {
          i++;
          if (body[i + 1] === "/") {
            i++;
            source += "(?:.*/)?";
          } else source += ".*";
        } else if (c === "*") source += "[^/]*";
        else if (c === "?") source += "[^/]";
        else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      return { include, regex: new RegExp(`^${source}$`) };
    });
  return (path: string): boolean => {
    const parts = path.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const p of patterns) {
      if (prefixes.some((prefix) => p.regex.test(prefix))) excluded = !p.include;
    }
    return excluded;
  };
}

const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1);
const isExcluded = dockerignore(readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8"));
const tmpDirs: string[] = [];

afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

function stageNamed(name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`no stage named ${name}`);
  return stage;
}

describe("Dockerfile", () => {
  it("is multi-stage, every stage on a Node 24 image", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage.image).toMatch(
        /^(?:docker\.io\/(?:library\/)?)?node:24(?:[.-]|$)|^gcr\.io\/distroless\/nodejs24-/,
      );
    }
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toMatch(/^>=24\b/);
  });

  it("runs as a numeric non-root user in the final stage", () => {
    if (runtime === undefined) throw new Error("no stages");
    const user = last(runtime, "USER");
    // Numeric uid:gid, so the kubelet can enforce runAsNonRoot without reading /etc/passwd.
    const match = /^(\d+)(?::(\d+))?$/.exec(user);
    expect(match, `USER ${user} is not numeric`).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThan(0);
    expect(Number(match?.[2] ?? "1")).toBeGreaterThan(0);
    // Nothing after USER switches back to root.
    const afterUser = runtime.instructions.slice(
      runtime.instructions.findLastIndex((i) => i.keyword === "USER"),
    );
    expect(afterUser.filter((i) => i.keyword === "USER")).toHaveLength(1);
    // The chart's securityContext runs the same uid.
    const values = readFileSync(join(REPO_ROOT, "charts/leakwatch/values.yaml"), "utf8");
    expect(values).toContain(`runAsUser: ${match?.[1] ?? ""}`);
  });

  it("ships production dependencies only, installed from the lockfile without install scripts", () => {
    if (runtime === undefined) throw new Error("no stages");
    // The runtime stage installs nothing itself (distroless: no shell, no npm).
    expect(all(runtime, "RUN")).toEqual([]);
    const modules = copies(runtime).filter((c) => c.sources.some((s) => /(^|\/)node_modules\/?$/.test(s)));
    expect(modules).toHaveLength(1);
    const from = modules[0]?.from;
    if (from === undefined) throw new Error("node_modules must come from a build stage (COPY --from=…)");
    const installs = all(stageNamed(from), "RUN").flatMap((r) => r.split(/&&|;/).map((c) => c.trim()));
    const npm = installs.filter((c) => /^npm (ci|install|i|prune)\b/.test(c));
    expect(npm.length).toBeGreaterThan(0);
    // The last npm command that shapes node_modules leaves production dependencies only …
    const final = npm.at(-1) ?? "";
    expect(final).toMatch(/--omit=dev|--omit dev|--production/);
    // … and every install in that stage either omits dev dependencies or is pruned afterwards.
    for (const cmd of npm.filter((c) => /^npm (ci|install|i)\b/.test(c))) {
      expect(cmd.includes("--omit=dev") || /^npm prune\b.*--omit=dev/.test(final), cmd).toBe(true);
      expect(cmd, "npm ci keeps the image to the lockfile").toMatch(/^npm ci\b/);
      expect(cmd, "production dependencies need no install scripts").toContain("--ignore-scripts");
    }
  });

  it("starts dist/main.js with `run`, a file the TypeScript build emits", async () => {
    if (runtime === undefined) throw new Error("no stages");
    const entrypoint = execForm(last(runtime, "ENTRYPOINT"));
    expect(entrypoint[0]).toMatch(/(^|\/)node$/);
    const script = entrypoint[1] ?? "";
    expect(execForm(last(runtime, "CMD"))).toEqual(["run"]);

    // The script lives in the dist/ the build stage compiled with `npm run build`.
    const scriptPath = absolute(runtime, script);
    const distCopy = copies(runtime).find(
      (c) => c.from !== undefined && scriptPath.startsWith(`${absolute(runtime, c.dest)}/`),
    );
    if (distCopy?.from === undefined) throw new Error(`no COPY --from=<stage> puts ${scriptPath} in place`);
    const build = stageNamed(distCopy.from);
    expect(all(build, "RUN").some((r) => r.includes("npm run build"))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      type?: string;
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, "tsconfig.build.json"), "utf8")) as {
      compilerOptions: { outDir: string };
    };
    // In the build stage, dist/ is WORKDIR + outDir; the runtime copies exactly that folder.
    expect(distCopy.sources).toEqual([absolute(build, tsconfig.compilerOptions.outDir)]);

    // Compile the same way into a scratch outDir (types are `npm run typecheck`'s job) and find
    // the entry point where the ENTRYPOINT expects it.
    const out = mkdtempSync(join(tmpdir(), "lw-dist-"));
    tmpDirs.push(out);
    await exec(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        out,
        "--noCheck",
      ],
      { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
    );
    const relative = posix.relative(absolute(runtime, distCopy.dest), scriptPath);
    expect(existsSync(join(out, relative)), `${relative} missing from the build output`).toBe(true);
    // dist/*.js are ES modules: the runtime needs package.json's "type": "module" beside them.
    expect(pkg.type).toBe("module");
    const besideDist = posix.join(posix.dirname(absolute(runtime, distCopy.dest)), "package.json");
    const pkgCopy = copies(runtime).find((c) => c.sources.some((s) => posix.basename(s) === "package.json"));
    expect(pkgCopy && absolute(runtime, pkgCopy.dest)).toBe(besideDist);
  });

  it("copies only what the build context holds, and the context leaves out what it must", () => {
    for (const stage of stages) {
      for (const copy of copies(stage).filter((c) => c.from === undefined)) {
        for (const source of copy.sources) {
          const path = source.replace(/\/+$/, "");
          expect(existsSync(join(REPO_ROOT, path)), `COPY ${path}: no such file`).toBe(true);
          expect(isExcluded(path), `COPY ${path}: excluded by .dockerignore`).toBe(false);
        }
      }
    }
    for (const path of [
      "src/main.ts",
      "package.json",
      "package-lock.json",
      "tsconfig.build.json",
      "crds/leakwatch.dev_leakwatches.yaml",
    ]) {
      expect(isExcluded(path), path).toBe(false);
    }
    for (const path of [
      "node_modules/yaml/package.json",
      ".git/HEAD",
      "test/unit/dockerfile.test.ts",
      "bench/detect/run.ts",
      "tools/helm/go.mod",
      "docs/index.md",
      "dist/main.js",
      "coverage/index.html",
      "src/node_modules/x.js",
      ".env",
      "charts/leakwatch/Chart.yaml",
    ]) {
      expect(isExcluded(path), path).toBe(true);
    }
  });
});

describe("the chart's CRD", () => {
  it("is a byte-for-byte copy of crds/ (scripts/sync-crd.sh)", () => {
    const top = join(REPO_ROOT, "crds");
    const chart = join(REPO_ROOT, "charts/leakwatch/crds");
    const names = readdirSync(top).filter((f) => f.endsWith(".yaml"));
    expect(names.length).toBeGreaterThan(0);
    expect(readdirSync(chart).sort()).toEqual(names.sort());
    for (const name of names) {
      const same = readFileSync(join(top, name)).equals(readFileSync(join(chart, name)));
      expect(same, `charts/leakwatch/crds/${name} differs from crds/${name}: run scripts/sync-crd.sh`).toBe(
        true,
      );
    }
  });
});
