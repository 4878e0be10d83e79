/** The LeakWatch API group, version and names, as the CRD declares them. */
export const GROUP = "leakwatch.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "LeakWatch";
export const PLURAL = "leakwatches";
export const SHORT_NAME = "lw";
/** The name events carry in `reportingController`, and the field manager for our writes. */
export const CONTROLLER_NAME = "leakwatch.dev/controller";
