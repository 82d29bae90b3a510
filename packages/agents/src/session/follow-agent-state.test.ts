import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { taskEventLog, type TaskEventLog } from "../testing/task-event-log.js";
import type { AgentStateSource } from "../spec/agent-state.js";
import { createAgentStateFollower } from "./follow-agent-state.js";
import { eventTaskContext } from "./test-fixtures/event-task-context.js";

/** Lines `<state> <message>`. */
const plain: AgentStateSource = {
  kind: "hooks",
  parse: (line) => {
    const [state, ...rest] = line.split(" ");
    if (!["working", "idle", "waiting-permission", "waiting-input", "exited"].includes(state!)) return null;
    return { state: state as "working", ...(rest.length > 0 ? { message: rest.join(" ") } : {}) };
  },
};

let root: string;
let host: Host;
let log: TaskEventLog;
let file: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-state-follow-"));
  process.env.OPTIO_FOLLOW_TEST_TASK_ROOT = root;
  host = createHost({ consumer: "optio-follow-test", processId: "p" });
  await host.connect();
  file = join(root, "state.log");
  await writeFile(file, "");
  log = taskEventLog();
});
afterEach(async () => {
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

const states = () =>
  log.events.map((e) =>
    e.type === "agent-state" ? e.state : e.type === "attention" ? `attention: ${e.reason}` : e.type,
  );

describe("the agent-state follower", () => {
  it("reports changes once each, and asks for attention once per wait for a person", async () => {
    const changes: string[] = [];
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: plain,
      displayName: "Agent",
      onChange: (c) => changes.push(c.state),
    });
    follower.starting();
    follower.follow();
    await appendFile(file, "working\nworking\nwaiting-permission Bash: ls\n");
    await log.waitFor((e) => e.type === "attention");
    await appendFile(file, "waiting-permission Bash: ls\nworking\nwaiting-permission Bash: rm\nnonsense\n");
    await log.waitFor((e) => e.type === "attention", { from: 4 });
    await follower.exited();
    expect(states()).toEqual([
      "starting",
      "working",
      "waiting-permission",
      "attention: Agent asks for permission: Bash: ls",
      "working",
      "waiting-permission",
      "attention: Agent asks for permission: Bash: rm",
      "exited",
    ]);
    expect(changes).toEqual(["starting", "working", "waiting-permission", "working", "waiting-permission", "exited"]);
  });

  it("an adopted agent's earlier lines are not reported again: only the state they end in, then new lines", async () => {
    await writeFile(file, "working\nwaiting-permission Bash: ls\nworking\nwaiting-permission Bash: rm\n");
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: plain,
      displayName: "Agent",
    });
    follower.follow({ adopted: true });
    await log.waitFor((e) => e.type === "attention");
    await appendFile(file, "working\nidle all done\n");
    await log.waitFor((e) => e.type === "agent-state" && e.state === "idle");
    await follower.exited();
    expect(states()).toEqual([
      "waiting-permission",
      "attention: Agent asks for permission: Bash: rm",
      "working",
      "idle",
      "exited",
    ]);
  });

  it("an adopted agent whose file is still empty reports only new lines", async () => {
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: plain,
      displayName: "Agent",
    });
    follower.follow({ adopted: true });
    await appendFile(file, "working\n");
    await log.waitFor((e) => e.type === "agent-state" && e.state === "working");
    await follower.exited();
    expect(states()).toEqual(["working", "exited"]);
  });

  it("a turn that ends and stays unfinished becomes waiting-input with one attention", async () => {
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: plain,
      displayName: "Agent",
    });
    follower.follow();
    await appendFile(file, "working\nidle I stop here.\n");
    await log.waitFor((e) => e.type === "attention");
    await appendFile(file, "waiting-input Agent is waiting for your input\n");
    await appendFile(file, "working\n");
    await log.waitFor((e) => e.type === "agent-state" && e.state === "working", { from: 3 });
    await follower.exited();
    expect(states()).toEqual([
      "working",
      "idle",
      "waiting-input",
      "attention: Agent ended its turn without reporting DONE and waits for input: I stop here.",
      "working",
      "exited",
    ]);
  });

  it("an end within the grace after a turn asks for nothing", async () => {
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: plain,
      displayName: "Agent",
    });
    follower.follow();
    await appendFile(file, "working\nidle\n");
    await log.waitFor((e) => e.type === "agent-state" && e.state === "idle");
    await follower.exited();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(states()).toEqual(["working", "idle", "exited"]);
  });

  it("without a source reports only starting and exited", async () => {
    const follower = createAgentStateFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      path: file,
      source: undefined,
      displayName: "Agent",
    });
    follower.starting();
    follower.follow();
    await appendFile(file, "waiting-permission x\n");
    await follower.exited();
    expect(states()).toEqual(["starting", "exited"]);
  });
});
