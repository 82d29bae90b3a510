// `@optio/opencode/install`: where the agent is published, for a caller that installs a pinned version ahead of its tasks.
export { openCodeRegistryPackage } from "./install.js";
