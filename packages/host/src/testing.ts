export {};
export * from "./host-contract-suite.js";
