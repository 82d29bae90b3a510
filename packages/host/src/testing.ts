export {};
export * from "./host-contract-suite.js";
export { freePort, startTestSshd, type TestSshd } from "./test-sshd.js";
export { importWithout } from "./import-without.js";
export {
  exitOf,
  launchOnFreePort,
  lineFrom,
  printed,
  type RestartableServer,
  type RestartableServerOptions,
  startRestartableServer,
} from "./test-processes.js";
