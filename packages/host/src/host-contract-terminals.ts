import { describe, expect, it } from "vitest";
import { type ContractScope, waitFor, scopedHost } from "./host-contract-helpers.js";

/** Tunnels and PTYs. */
export function terminalsContract(scope: ContractScope): void {
  describe("tunnels and terminals", () => {
    const host = scopedHost(scope);

    it("opens a tunnel to a host port", async () => {
      const tunnel = await host.openTunnel(1);
      expect(Number.isInteger(tunnel.port)).toBe(true);
      await tunnel.close();
    });

    it("runs a PTY that echoes input, resizes and closes idempotently", async () => {
      const pty = await host.openPty(
        "printf 'ready\\n'; read line; printf 'got:%s\\n' \"$line\"; read again; stty size; read last",
        { cols: 80, rows: 24, env: { OPTIO_PTY: "1" } },
      );
      let output = "";
      const exits: unknown[] = [];
      pty.onData((d) => {
        output += d;
      });
      pty.onExit((e) => exits.push(e));
      await waitFor("ready", async () => output.includes("ready"));
      pty.write("hello\r");
      await waitFor("the echoed line", async () => output.includes("got:hello"));
      pty.resize(100, 40);
      pty.write("\r");
      await waitFor("the new size", async () => output.includes("40 100"));
      pty.pause();
      pty.resume();
      pty.close();
      pty.close();
      await waitFor("the PTY to exit", async () => exits.length > 0);
    });

    it("runs a PTY readied by preparePty at its own size, echoing and cooking input as any PTY", async () => {
      host.preparePty();
      const pty = await host.openPty("printf 'ready\\n'; stty size; read line; printf 'got:%s\\n' \"$line\"", {
        cols: 100,
        rows: 30,
      });
      let output = "";
      pty.onData((d) => {
        output += d;
      });
      const exited = new Promise((resolve) => pty.onExit(resolve));
      await waitFor("the size", async () => output.includes("30 100"));
      pty.write("typed\r");
      await waitFor("the echoed line", async () => output.includes("typed") && output.includes("got:typed"));
      expect(output.split("typed").length - 1).toBe(2);
      await exited;
    });
  });
}
