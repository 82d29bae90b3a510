export * from "./postgres-state-store.js";
export * from "./errors.js";
