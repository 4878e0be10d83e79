import { describe, expect, it } from "vitest";
import { describeClusterError } from "../../../src/cli/kube-errors.ts";
import {
  CaptureCorruptError,
  CaptureIncompleteError,
  CaptureNotFoundError,
} from "../../../src/kube/capture-errors.ts";
import {
  KubeApiError,
  KubeConfigError,
  KubeConnectionError,
  KubeResponseError,
} from "../../../src/kube/errors.ts";
import { LeakWatchCrdMissingError } from "../../../src/kube/leakwatches.ts";

function forbidden(
  message: string,
  path = "/apis/leakwatch.dev/v1alpha1/namespaces/shop/leakwatches",
): KubeApiError {
  return new KubeApiError({ status: 403, reason: "Forbidden", message, method: "GET", path });
}

const ASK = "(ask for a Role that grants it, or use another --context)";

describe("describeClusterError", () => {
  it("names the verb, resource and namespace a 403 is about", () => {
    const err = forbidden(
      'leakwatches.leakwatch.dev is forbidden: User "system:serviceaccount:shop:oncall" cannot list resource "leakwatches" in API group "leakwatch.dev" in the namespace "shop"',
    );
    expect(describeClusterError(err)).toBe(
      `access denied: system:serviceaccount:shop:oncall cannot list leakwatches.leakwatch.dev in namespace shop ${ASK}`,
    );
  });

  it("says 'at the cluster scope' for -A, and leaves the core group out", () => {
    expect(
      describeClusterError(
        forbidden(
          'leakwatches.leakwatch.dev is forbidden: User "jane" cannot list resource "leakwatches" in API group "leakwatch.dev" at the cluster scope',
        ),
      ),
    ).toBe(`access denied: jane cannot list leakwatches.leakwatch.dev at the cluster scope ${ASK}`);
    expect(
      describeClusterError(
        forbidden(
          'configmaps "lw-x" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "shop"',
        ),
      ),
    ).toBe(`access denied: jane cannot get configmaps in namespace shop ${ASK}`);
  });

  it("handles the non-resource form, and any other 403 wording", () => {
    expect(
      describeClusterError(
        forbidden(
          'forbidden: User "system:anonymous" cannot get path "/apis/leakwatch.dev/v1alpha1"',
          "/apis",
        ),
      ),
    ).toBe(`access denied: system:anonymous cannot get /apis/leakwatch.dev/v1alpha1 ${ASK}`);
    expect(
      describeClusterError(forbidden("denied by webhook policy-x", "/api/v1/namespaces/a/configmaps")),
    ).toBe("access denied: GET /api/v1/namespaces/a/configmaps is forbidden: denied by webhook policy-x");
  });

  it("says the credentials were rejected on 401", () => {
    const err = new KubeApiError({
      status: 401,
      reason: "Unauthorized",
      message: "Unauthorized",
      method: "GET",
      path: "/apis",
    });
    expect(describeClusterError(err, { server: "https://k8s.example:6443" })).toBe(
      "the cluster at https://k8s.example:6443 rejected the credentials (401 Unauthorized): log in again or pick another --context",
    );
  });

  it("names the server it cannot reach and the root cause", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const err = new KubeConnectionError(
      "GET /apis/leakwatch.dev/v1alpha1: connect ECONNREFUSED 127.0.0.1:1",
      { cause },
    );
    expect(describeClusterError(err, { server: "https://127.0.0.1:1" })).toBe(
      "cannot reach the cluster at https://127.0.0.1:1 (connect ECONNREFUSED 127.0.0.1:1): is it up, and is this the right context? (kubectl config current-context)",
    );
  });

  it("says how to install the CRD", () => {
    expect(describeClusterError(new LeakWatchCrdMissingError("https://k8s.example:6443"))).toBe(
      "the LeakWatch CRD is not installed in this cluster (https://k8s.example:6443): kubectl apply --server-side -f crds/ (or helm install leakwatch charts/leakwatch)",
    );
  });

  it("points at the context when the kubeconfig cannot be used", () => {
    const err = new KubeConfigError("the kubeconfig has no current cluster");
    expect(describeClusterError(err)).toBe("the kubeconfig has no current cluster");
    expect(describeClusterError(err, { context: "prod" })).toBe(
      'the kubeconfig has no current cluster (does the kubeconfig have a context named "prod"? kubectl config get-contexts)',
    );
  });

  it("describes capture failures without repeating the capture's name", () => {
    const ctx = { namespace: "shop" };
    expect(describeClusterError(new CaptureNotFoundError("lw-a"), ctx)).toBe(
      "capture lw-a not found in namespace shop (leakwatch captures list -n shop shows the captures there)",
    );
    expect(
      describeClusterError(
        new CaptureIncompleteError("lw-a", "capture lw-a has 2 part(s) but no manifest"),
        ctx,
      ),
    ).toBe(
      "capture lw-a is incomplete: has 2 part(s) but no manifest (its save never finished or a part was deleted; leakwatch captures list -n shop shows whole captures)",
    );
    expect(
      describeClusterError(new CaptureCorruptError("lw-a", "capture lw-a: the manifest is not JSON"), ctx),
    ).toBe("capture lw-a is corrupt: the manifest is not JSON (nothing was written)");
    expect(
      describeClusterError(
        new CaptureCorruptError("lw-a", "heap.pb.gz does not match its size or sha256"),
        ctx,
      ),
    ).toBe("capture lw-a is corrupt: heap.pb.gz does not match its size or sha256 (nothing was written)");
  });

  it("keeps every message on one line, and leaves other errors to the caller", () => {
    const err = new KubeResponseError("GET /apis: answer is not JSON\nat line 1");
    expect(describeClusterError(err)).toBe("GET /apis: answer is not JSON at line 1");
    expect(describeClusterError(new TypeError("bug"))).toBeUndefined();
    expect(describeClusterError("text")).toBeUndefined();
  });
});
