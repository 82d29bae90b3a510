import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScreen, startTmuxSession, stopTmuxSession, tmuxSessionFor } from "./tmux.js";

describe("startTmuxSession", () => {
  let root: string;
  let host: LocalHost;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "optio-tmux-"));
    host = new LocalHost({ consumer: "tmux-test", processId: "argv", env: { TMUX_TEST_TASK_ROOT: root } });
    await host.connect();
  });

  afterAll(async () => {
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("executes an argv as given, with no shell reading its words", async () => {
    const session = tmuxSessionFor(host);
    const script = 'printf "<%s>" "$@"; printf "\\n"; exec sleep 600';
    await startTmuxSession(
      host,
      session,
      ["/bin/sh", "-c", script, "sh", "two words", "$HOME", "it's", "a;b"],
      host.workdir,
    );
    try {
      let screen = "";
      for (let i = 0; i < 50 && !screen.includes(">"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        screen = await readScreen(host, session);
      }
      expect(screen).toContain("<two words><$HOME><it's><a;b>");
    } finally {
      await stopTmuxSession(host, session);
    }
  });
});
