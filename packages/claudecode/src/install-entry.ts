// `@optio/claudecode/install`: where the agent is published, for a caller that installs a pinned version ahead of its tasks.
export { claudeRegistryPackage } from "./install.js";
