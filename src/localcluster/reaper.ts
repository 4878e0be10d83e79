// A watchdog started detached next to a group of child processes: when the process that started
// them dies (even by SIGKILL, or a crashed test runner), it kills every pid listed in DIR/pids and,
// with --remove, deletes DIR. Usage: node reaper.ts PARENT_PID DIR [--remove]
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const [parentArg, dir = "", flag] = process.argv.slice(2);
const parent = Number(parentArg);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listedPids(): number[] {
  try {
    return readFileSync(join(dir, "pids"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const timer = setInterval(() => {
  if (alive(parent)) return;
  clearInterval(timer);
  for (const pid of listedPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (flag === "--remove" && dir !== "") rmSync(dir, { recursive: true, force: true });
}, 300);
