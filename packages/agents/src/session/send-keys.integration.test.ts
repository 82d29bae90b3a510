import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createAgentTask, type AgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { UnsupportedKeyError } from "../spec/agent-keys.js";
import { AgentNotRunningError } from "./create-hook-context.js";
import { useScriptedHosts } from "./test-fixtures/scripted-hosts.js";

/** The scripted agent's `keys` scenario reads its terminal raw and logs every byte, so these tests see exactly what arrived. */

const hosts = useScriptedHosts("optio-send-keys-");

/** Runs a `keys` task; `bytes(n)` resolves with the first n bytes the agent read, as hex. */
async function withKeysAgent(
  kind: "local" | "ssh",
  processId: string,
  body: (task: AgentTask, bytes: (n: number) => Promise<string[]>) => Promise<void>,
) {
  const task = createAgentTask(createScriptedAdapter(), {
    processId,
    name: "keys",
    config: {
      supportsResume: false,
      env: { OPTIO_SCENARIO: "keys" },
      ...(kind === "ssh" ? { ssh: hosts.sshd.sshConfig() } : {}),
    },
  });
  const seen: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const run = runTask(task, {
    store: hosts.store,
    onEvent: (e) => {
      if (e.type !== "progress" || !e.message?.startsWith("byte ")) return;
      seen.push(e.message.slice("byte ".length));
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
    },
  });
  const bytes = async (n: number) => {
    if (seen.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }));
    return seen.slice(0, n);
  };
  try {
    let screen = "";
    // Polled on a timer: before the agent runs, readScreen rejects at once, and a loop of microtasks would starve the session.
    while (!screen.includes("keys ready>")) {
      await sleep(50);
      screen = await task.readScreen().catch(() => "");
    }
    await body(task, bytes);
  } finally {
    run.cancel();
    await run.outcome;
  }
}

describe.each(["local", "ssh"] as const)("task.sendKeys (%s host)", (kind) => {
  it("presses each named key as the terminal sends it", { timeout: 60_000 }, async () => {
    await withKeysAgent(kind, `keys-named-${kind}`, async (task, bytes) => {
      await task.sendKeys(["Up", "Down", "Right", "Left", "Tab", "Escape", "0", "7", "9", "y", "n", "Enter"]);
      expect(await bytes(20)).toEqual(
        ["1b 5b 41", "1b 5b 42", "1b 5b 43", "1b 5b 44", "09", "1b", "30", "37", "39", "79", "6e", "0d"]
          .join(" ")
          .split(" "),
      );
    });
  });

  it("refuses a key that is not named, pressing nothing of the list", { timeout: 60_000 }, async () => {
    await withKeysAgent(kind, `keys-refused-${kind}`, async (task, bytes) => {
      await expect(task.sendKeys(["y", "C-c" as never])).rejects.toSatisfy((e: unknown) =>
        UnsupportedKeyError.isInstance(e),
      );
      await expect(task.sendKeys(["rm -rf ~" as never])).rejects.toSatisfy((e: unknown) =>
        UnsupportedKeyError.isInstance(e),
      );
      await task.sendKeys(["n"]);
      expect(await bytes(1)).toEqual(["6e"]);
    });
  });

  it("queues keys with sendText: concurrent calls arrive whole and in call order", { timeout: 60_000 }, async () => {
    await withKeysAgent(kind, `keys-queued-${kind}`, async (task, bytes) => {
      const calls = Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0 ? () => task.sendText(`t${i}`) : () => task.sendKeys([String(i % 10) as "1", "Tab"]),
      );
      const expected = Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? [..."t", ...String(i)].map((c) => c.charCodeAt(0).toString(16))
          : [(0x30 + (i % 10)).toString(16), "09"],
      ).flat();
      await Promise.all(calls.map((call) => call()));
      expect(await bytes(expected.length)).toEqual(expected);
    });
  });
});

describe("task.sendKeys without a running agent", () => {
  it("refuses a bad key before anything else, and any key while no agent runs", async () => {
    const task = createAgentTask(createScriptedAdapter(), {
      processId: "keys-idle",
      name: "keys",
      config: { supportsResume: false },
    });
    await expect(task.sendKeys(["Delete" as never])).rejects.toSatisfy((e: unknown) =>
      UnsupportedKeyError.isInstance(e),
    );
    await expect(task.sendKeys(["Enter"])).rejects.toSatisfy((e: unknown) => AgentNotRunningError.isInstance(e));
  });
});
