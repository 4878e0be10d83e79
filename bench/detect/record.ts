// Records heap/goroutine series from examples/leaky-app into bench/detect/recordings/.
// Accelerated time: it scrapes every second for a few minutes and relabels the rows 60 s apart, so
// six minutes of a real Go process read as six hours at the production scrape interval.
//   node bench/detect/record.ts [--samples 360]
import { spawn, execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { formatSeriesCsv, type Sample } from "../../src/detect/index.ts";
import type { RecordingLabel } from "./recordings.ts";

interface Recording {
  readonly file: string;
  readonly args: readonly string[];
  readonly label: RecordingLabel;
}

const MIB = 1024 * 1024;
/**
 * The goroutine leaks do not leak heap: the 16 KiB buffer each goroutine holds does not escape
 * (`go build -gcflags=-m` says so), so it is allocated on the goroutine's stack, and HeapInuse stays
 * flat while the goroutine count (and stack memory) grows. Labelled heap-healthy.
 */
const GOROUTINE_NOTE =
  "the 16 KiB buffer each goroutine holds does not escape (go build -gcflags=-m: 'make([]byte, 16384) does not escape'), so it lives on the goroutine's stack: HeapInuse stays flat, the goroutine count (and stack memory) leaks";
const ceiling = 256 * MIB;
const recordings: readonly Recording[] = [
  {
    file: "slice-16KiB.csv",
    args: ["-behaviour", "slice", "-rate", "16KiB"],
    label: { behaviour: "slice", heapLeaks: true, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "slice-64KiB.csv",
    args: ["-behaviour", "slice", "-rate", "64KiB"],
    label: { behaviour: "slice", heapLeaks: true, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "cache-32KiB.csv",
    args: ["-behaviour", "cache", "-rate", "32KiB"],
    label: { behaviour: "cache", heapLeaks: true, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "goroutine-ticker.csv",
    args: ["-behaviour", "goroutine-ticker", "-goroutine-rate", "1"],
    label: {
      behaviour: "goroutine-ticker",
      heapLeaks: false,
      goroutinesLeak: true,
      ceilingBytes: ceiling,
      note: GOROUTINE_NOTE,
    },
  },
  {
    file: "goroutine-context.csv",
    args: ["-behaviour", "goroutine-context", "-goroutine-rate", "2"],
    label: {
      behaviour: "goroutine-context",
      heapLeaks: false,
      goroutinesLeak: true,
      ceilingBytes: ceiling,
      note: GOROUTINE_NOTE,
    },
  },
  {
    file: "sawtooth-256KiB.csv",
    args: ["-behaviour", "sawtooth", "-rate", "256KiB"],
    label: { behaviour: "sawtooth", heapLeaks: false, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "sawtooth-1MiB.csv",
    args: ["-behaviour", "sawtooth", "-rate", "1MiB"],
    label: { behaviour: "sawtooth", heapLeaks: false, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "warmup-32MiB.csv",
    args: ["-behaviour", "warmup", "-plateau", "32MiB", "-tick", "5s"],
    label: { behaviour: "warmup", heapLeaks: false, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "warmup-64MiB.csv",
    args: ["-behaviour", "warmup", "-plateau", "64MiB", "-tick", "10s"],
    label: { behaviour: "warmup", heapLeaks: false, goroutinesLeak: false, ceilingBytes: ceiling },
  },
  {
    file: "idle.csv",
    args: ["-behaviour", "idle"],
    label: { behaviour: "idle", heapLeaks: false, goroutinesLeak: false, ceilingBytes: ceiling },
  },
];

const { values } = parseArgs({ options: { samples: { type: "string", default: "360" } } });
const samplesWanted = Number(values.samples);
const appDir = fileURLToPath(new URL("../../examples/leaky-app/", import.meta.url));
const outDir = fileURLToPath(new URL("./recordings/", import.meta.url));
const binary = "/tmp/leakwatch-leaky-app";
execFileSync("go", ["build", "-o", binary, "."], { cwd: appDir, stdio: "inherit" });

async function scrape(base: string): Promise<{ heap: number; goroutines: number }> {
  const heapText = await (await fetch(`${base}/debug/pprof/heap?debug=1`)).text();
  const heap = /# HeapInuse = (\d+)/.exec(heapText)?.[1];
  const gText = await (await fetch(`${base}/debug/pprof/goroutine?debug=1`)).text();
  const goroutines = /goroutine profile: total (\d+)/.exec(gText)?.[1];
  if (heap === undefined || goroutines === undefined) throw new Error("unexpected pprof text");
  return { heap: Number(heap), goroutines: Number(goroutines) };
}

async function record(r: Recording): Promise<void> {
  const child = spawn(binary, ["-listen", "127.0.0.1:0", ...r.args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const addr = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /listening on (\S+)/.exec(buffered);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once("exit", () => {
      reject(new Error(`${r.file}: leaky-app exited early`));
    });
  });
  const samples: Sample[] = [];
  const epoch = Date.UTC(2026, 0, 1);
  try {
    for (let i = 0; i < samplesWanted; i++) {
      const { heap, goroutines } = await scrape(`http://${addr}`);
      // Relabelled: one real second becomes one minute.
      samples.push({ t: epoch + i * 60_000, heapInuseBytes: heap, goroutines });
      await sleep(1000);
    }
  } finally {
    child.kill("SIGTERM");
  }
  await writeFile(`${outDir}${r.file}`, formatSeriesCsv(samples));
  process.stdout.write(`recorded ${r.file}: ${samples.length} rows\n`);
}

await Promise.all(recordings.map(record));
const labels = Object.fromEntries(recordings.map((r) => [r.file, r.label]));
await writeFile(`${outDir}labels.json`, `${JSON.stringify(labels, null, 2)}\n`);
