import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // One control plane serves the whole run; files still run in parallel workers.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "faults",
          include: ["test/faults/**/*.test.ts"],
          // The shared control plane, plus a directory the runs report into (the table).
          globalSetup: ["test/faults/harness/global-setup.ts"],
          testTimeout: 1_200_000,
          hookTimeout: 600_000,
          // Faults mostly wait (for detection, for a lease to expire): three files at once.
          fileParallelism: true,
          maxWorkers: 3,
        },
      },
    ],
  },
});
