// The long-running operator: metrics and health endpoints, leader election, and one Controller
// per leadership term. Losing the lease stops all scraping and acting at once and exits (the
// Deployment restarts the process as a fresh candidate); SIGTERM hands the lease over gracefully
// after persisting detector state.
import type { Server } from "node:http";
import { KubeClient } from "../kube/client.ts";
import { informerUnhealthyReason } from "../kube/informer.ts";
import { LeaderElector, LeadershipLostError } from "../kube/lease.ts";
import type { Logger } from "../kube/logger.ts";
import type { ControllerConfig } from "./config.ts";
import { Controller } from "./controller.ts";
import { startHttpServer } from "./http.ts";
import { ControllerMetrics } from "./metrics.ts";

/** A watch down this long makes /healthz fail (the kubelet then restarts us). */
const MAX_WATCH_DOWN_MS = 3 * 60_000;

export interface ManagerHandle {
  /** Port the metrics server listens on (useful when 0 was asked). */
  metricsPort: number;
  /** Resolves with the exit code once the manager has stopped. */
  done: Promise<number>;
}

export async function startManager(
  config: ControllerConfig,
  logger: Logger,
  signal: AbortSignal,
): Promise<ManagerHandle> {
  const client = await KubeClient.load({
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
    ...(config.context === undefined ? {} : { context: config.context }),
    userAgent: `leakwatch/${config.identity}`,
  });
  const metrics = new ControllerMetrics();
  let controller: Controller | undefined;
  let elector: LeaderElector | undefined;
  const http: Server & { port: number } = await startHttpServer(config.metricsHost, config.metricsPort, {
    registry: metrics.registry,
    healthz: () => {
      for (const informer of controller?.informers() ?? []) {
        const reason = informerUnhealthyReason(informer.health(), Date.now(), MAX_WATCH_DOWN_MS);
        if (reason !== undefined) return { ok: false, detail: reason };
      }
      return { ok: true, detail: controller === undefined ? "standing by" : "leading" };
    },
    // A standby replica is ready on purpose: it waits for the lease, and must not block rollouts.
    readyz: () =>
      controller === undefined || controller.synced
        ? { ok: true, detail: controller === undefined ? "standing by" : "caches synced" }
        : { ok: false, detail: "caches not synced yet" },
  });
  logger.info(
    { port: http.port, identity: config.identity, namespaces: config.namespaces },
    "leakwatch started",
  );

  let lost: () => void = () => undefined;
  const leadershipLost = new Promise<void>((resolveLost) => {
    lost = resolveLost;
  });

  const lead = async (leading: AbortSignal): Promise<void> => {
    metrics.leader.set(1);
    const c = new Controller({ client, config, metrics, logger });
    controller = c;
    c.start();
    logger.info({ identity: config.identity }, "leading: scraping and acting");
    await new Promise<void>((resolveAbort) => {
      if (leading.aborted) resolveAbort();
      leading.addEventListener("abort", () => {
        resolveAbort();
      });
    });
    const wasLost = leading.reason instanceof LeadershipLostError;
    await c.stop(!wasLost);
    controller = undefined;
    metrics.leader.set(0);
    if (wasLost) {
      logger.error({ identity: config.identity }, "leader election lost: stopped scraping and acting");
      lost();
    }
  };

  const done = (async (): Promise<number> => {
    let exitCode = 0;
    if (config.leaderElect) {
      elector = new LeaderElector({
        client,
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        logger,
        onStartedLeading: lead,
        onNewLeader: (identity) => {
          logger.info({ leader: identity }, "leader observed");
        },
      });
      elector.start();
      const outcome = await Promise.race([
        leadershipLost.then(() => "lost" as const),
        new Promise<"signal">((resolveSignal) => {
          if (signal.aborted) resolveSignal("signal");
          signal.addEventListener("abort", () => {
            resolveSignal("signal");
          });
        }),
      ]);
      if (outcome === "lost") {
        await elector.stop();
        exitCode = 1;
      } else {
        logger.info({}, "shutting down: handing over the lease");
        await elector.release();
      }
    } else {
      const local = new AbortController();
      signal.addEventListener("abort", () => {
        local.abort();
      });
      await lead(local.signal);
    }
    await new Promise<void>((resolveClose) => {
      http.close(() => {
        resolveClose();
      });
      http.closeAllConnections();
    });
    client.close();
    logger.info({ exitCode }, "leakwatch stopped");
    return exitCode;
  })();
  return { metricsPort: http.port, done };
}
