export { startTestRedis, type TestRedis } from "./test-redis.js";
export {
  scriptedInputs,
  scriptedLaunches,
  scriptedReleases,
  scriptedStarts,
  scriptedTaskKind,
  type ScriptedPayload,
  type ScriptedStart,
} from "./scripted-kind.js";
