export * from "./testing/state-store-suite.js";
export * from "./testing/scripted-agent.js";
export * from "./testing/scripted-adapter.js";
export * from "./testing/adapter-contract-suite.js";
export * from "./testing/adapter-test-context.js";
export * from "./testing/real-dirs-guard.js";
export * from "./testing/watch-terminal.js";
export * from "./testing/scripted-model.js";
