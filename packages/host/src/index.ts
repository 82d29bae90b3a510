export * from "./errors.js";
export type * from "./host.js";
export { DEFAULT_RESTORE_MAX_BYTES, DEFAULT_RESTORE_MAX_ENTRIES } from "./host.js";
// The schema itself is on the `@optio/host/ssh-config` subpath: zod is loaded only by those who validate with it.
export type { SSHConfig, SSHConfigInput } from "./ssh-config.js";
export * from "./shell.js";
export * from "./temp-sibling.js";
export * from "./task-dir.js";
export * from "./line-splitter.js";
export * from "./kill-tree.js";
export * from "./archive.js";
export * from "./local-host.js";
export * from "./remote-host.js";
export * from "./create-host.js";
