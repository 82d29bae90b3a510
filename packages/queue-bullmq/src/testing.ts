export { startTestRedis, type TestRedis } from "./test-redis.js";
export { scriptedStarts, scriptedTaskKind, type ScriptedPayload, type ScriptedStart } from "./scripted-kind.js";
