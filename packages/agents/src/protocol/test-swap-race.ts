import { posix } from "node:path";
import { type Host, shellQuote } from "@optio/host";
import { expect } from "vitest";
import { createDeliverableQueue } from "./deliverables.js";

const OUTSIDE_TEXT = "OUTSIDE-THE-WORKDIR";

/**
 * Runs an agent-side loop that keeps swapping `deliverables/d` between a
 * real directory and a symlink to a directory outside the workdir, and
 * `deliverables/d/p.md` between a file and a FIFO, while optio reads both
 * `reads` times each. Checks that no outside text is ever delivered, that
 * every read ends (delivered or skipped, none blocked) within `boundMs`,
 * and that the loop really swapped meanwhile.
 */
export async function deliverableSwapRace(host: Host, reads: number, boundMs: number): Promise<void> {
  const outside = posix.join(host.taskDir, "outside");
  await host.runChecked(
    [
      "rm -rf deliverables swapping",
      `rm -rf ${shellQuote(outside)} && mkdir -p ${shellQuote(outside)}`,
      `printf %s ${OUTSIDE_TEXT} > ${shellQuote(`${outside}/f.md`)} && printf %s ${OUTSIDE_TEXT} > ${shellQuote(`${outside}/p.md`)}`,
      "mkdir -p deliverables/d && printf inside > deliverables/d/f.md && printf inside > deliverables/d/p.md && mkfifo deliverables/d/p.fifo",
      `ln -s ${shellQuote(outside)} deliverables/d.link`,
    ].join(" && "),
  );
  // Renames by perl, so each swap is one system call and both states last about as long as a read takes.
  const loop = await host.spawn(
    `perl -e ${shellQuote(String.raw`
chdir "deliverables" or die; my $n = 0;
sub nap { select(undef, undef, undef, 0.0003) }
while (1) {
  rename "d", "d.real"; rename "d.link", "d"; nap();
  rename "d", "d.link"; rename "d.real", "d"; nap();
  rename "d/p.md", "d/p.keep"; rename "d/p.fifo", "d/p.md"; nap();
  rename "d/p.md", "d/p.fifo"; rename "d/p.keep", "d/p.md"; nap();
  if (++$n == 20) { open my $f, ">", "../swapping"; close $f }
}`)}`,
  );
  try {
    await expect.poll(async () => (await host.stat("swapping"))?.type, { timeout: boundMs }).toBe("file");
    const delivered: string[] = [];
    const skipped: string[] = [];
    const queue = createDeliverableQueue({
      host,
      report: (_level, message) => void skipped.push(message),
      deliver: async (relative, text) => void delivered.push(`${relative}:${text}`),
    });
    const started = Date.now();
    for (let i = 0; i < reads; i++) {
      await queue.push("deliverables/d/f.md");
      await queue.push("deliverables/d/p.md");
    }
    await Promise.race([
      queue.drain(),
      new Promise((_resolve, reject) =>
        setTimeout(
          () => reject(new Error(`deliverable reads did not all end within ${boundMs} ms`)),
          boundMs - (Date.now() - started),
        ),
      ),
    ]);
    expect(delivered.filter((d) => d.includes(OUTSIDE_TEXT))).toEqual([]);
    expect(delivered.length + skipped.length).toBe(2 * reads);
    expect(
      delivered.every((d) => d === "d/f.md:inside" || d === "d/p.md:inside"),
      delivered.join(", "),
    ).toBe(true);
  } finally {
    await host.terminate(loop, { graceMs: 500 });
  }
}
