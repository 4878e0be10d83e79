import { describe, expect, it } from "vitest";
import { dnsFragment, labelValue, ownerReference } from "../../../src/kube/ownership.ts";
import { stateObjectBase } from "../../../src/kube/statestore.ts";

const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

describe("labelValue", () => {
  it("keeps valid values as they are", () => {
    expect(labelValue("checkout-7d9f8c6b5-x2k4p")).toBe("checkout-7d9f8c6b5-x2k4p");
    expect(labelValue("a.b_c")).toBe("a.b_c");
  });

  it("turns long or invalid values into valid, distinct ones with a readable prefix", () => {
    const long = `payments-${"x".repeat(100)}`;
    const out = [
      labelValue(long),
      labelValue(`${long}y`),
      labelValue("-leading"),
      labelValue("ü/ber"),
      labelValue("---"),
    ];
    for (const v of out) {
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(LABEL_VALUE);
    }
    expect(out[0]).not.toBe(out[1]);
    expect(out[0]?.startsWith("payments-xxx")).toBe(true);
  });
});

describe("names", () => {
  it("dnsFragment lower-cases, replaces and trims to alphanumeric ends", () => {
    expect(dnsFragment("My.Pod_Name-", 63)).toBe("my-pod-name");
    expect(dnsFragment("abcdef-ghi", 7)).toBe("abcdef");
  });

  it("state objects stay within the 253-character name limit", () => {
    expect(stateObjectBase("checkout")).toBe("lw-checkout-state");
    const base = stateObjectBase("x".repeat(253));
    expect(`${base}-256-255`.length).toBeLessThanOrEqual(253);
    expect(stateObjectBase("x".repeat(253))).not.toBe(stateObjectBase(`${"x".repeat(252)}y`));
  });

  it("owner references name the LeakWatch as controller, without blocking its deletion", () => {
    expect(ownerReference({ namespace: "shop", name: "lw", uid: "u" })).toEqual({
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      name: "lw",
      uid: "u",
      controller: true,
    });
  });
});
