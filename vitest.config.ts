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
    ],
  },
});
