export type * from "./agent-v1.js";
export * from "./config.js";
export type * from "./protocol/browser-mode.js";
export type * from "./session/hook-context.js";
export type * from "./store/state-store.js";
export type * from "./task/task-context.js";
