// `@optio/codex/install`: where the agent is published, for a caller that installs a pinned version ahead of its tasks.
export { codexRegistryPackage } from "./install.js";
