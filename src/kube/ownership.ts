// What every object LeakWatch stores carries: an owner reference to its LeakWatch (so deleting the
// LeakWatch garbage-collects it), our labels, and names and label values the API server accepts.
import { createHash } from "node:crypto";
import { API_VERSION, KIND } from "../api/group.ts";

/** The LeakWatch that owns stored objects; they live in its namespace and nowhere else. */
export interface LeakWatchOwner {
  namespace: string;
  name: string;
  uid: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  component: "app.kubernetes.io/component",
  leakWatch: "leakwatch.dev/leakwatch",
  pod: "leakwatch.dev/pod",
  capture: "leakwatch.dev/capture",
  captureRole: "leakwatch.dev/capture-role",
  stateShards: "leakwatch.dev/state-shards",
} as const;

export const MANAGED_BY = "leakwatch";

/**
 * blockOwnerDeletion stays unset: setting it needs `update` on leakwatches/finalizers, and
 * foreground deletion of a LeakWatch waiting on its captures is not worth that permission.
 */
export function ownerReference(owner: LeakWatchOwner): OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: owner.name, uid: owner.uid, controller: true };
}

export function shortHash(text: string, hexChars = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, hexChars);
}

const LABEL_VALUE_MAX = 63;

/**
 * A label value (≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends) that stands for
 * `value`: the value itself when valid, else a sanitised prefix and a hash of the whole.
 */
export function labelValue(value: string): string {
  if (value.length <= LABEL_VALUE_MAX && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) {
    return value;
  }
  const hash = shortHash(value, 10);
  const prefix = trimToAlnum(value.replace(/[^-A-Za-z0-9_.]/g, "-").slice(0, LABEL_VALUE_MAX - 11));
  return prefix === "" ? hash : `${prefix}-${hash}`;
}

/**
 * A DNS-1123 label fragment: lower case, [a-z0-9-], at most `max` characters, alphanumeric at
 * both ends (may be empty).
 */
export function dnsFragment(value: string, max: number): string {
  return trimToAlnum(
    value
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .slice(0, max),
  );
}

function trimToAlnum(text: string): string {
  return text.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}
