// metav1.Condition bookkeeping, the way apimachinery's meta.SetStatusCondition does it:
// lastTransitionTime moves only when the status does; reason and message follow every update.
import type { Condition } from "../api/types.ts";
import { formatTime, truncateUtf8 } from "./text.ts";

export interface ConditionUpdate {
  type: string;
  status: Condition["status"];
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
  /** The LeakWatch generation this condition was computed from. */
  observedGeneration?: number;
}

/** The CRD's (and metav1's) limit on a condition message. */
const MESSAGE_MAX_BYTES = 32768;

/** A new list with `update` applied; the input is left untouched and the order kept. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  nowMs: number,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: truncateUtf8(update.message, MESSAGE_MAX_BYTES),
    lastTransitionTime:
      existing !== undefined && existing.status === update.status
        ? existing.lastTransitionTime
        : formatTime(nowMs),
    ...(update.observedGeneration === undefined ? {} : { observedGeneration: update.observedGeneration }),
  };
  return existing === undefined ? [...list, next] : list.map((c) => (c.type === update.type ? next : c));
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
