export * from "./errors.js";
export type * from "./host.js";
export * from "./ssh-config.js";
export * from "./shell.js";
