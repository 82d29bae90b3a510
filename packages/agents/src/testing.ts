export * from "./testing/state-store-suite.js";
