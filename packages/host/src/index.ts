export * from "./errors.js";
export type * from "./host.js";
export * from "./ssh-config.js";
export * from "./shell.js";
export * from "./task-dir.js";
export * from "./line-splitter.js";
export * from "./kill-tree.js";
export * from "./archive.js";
export * from "./local-host.js";
