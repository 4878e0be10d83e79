export * from "./annotations.ts";
export * from "./defaults.ts";
export * from "./duration.ts";
export * from "./errors.ts";
export * from "./group.ts";
export * from "./quantity.ts";
export * from "./types.ts";
