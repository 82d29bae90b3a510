// `@optio/agents/store`: the checks and helpers a `StateStore` implementation shares with `FileStateStore`.
export {
  checkKeepCount,
  checkSeedInput,
  checkSnapshotInput,
  checkStateId,
  checkSweepOptions,
  newStateId,
} from "./store/state-records.js";
export { forEachBlock } from "./store/blob-blocks.js";
