// Lets a plain `node` child process run the workspace's TypeScript sources, the
// way vitest does in-process: `node --import <this file> script.ts`.
import { register } from "node:module";

register("./ts-hooks.mjs", import.meta.url);
