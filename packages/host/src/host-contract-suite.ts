import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import type { Host } from "./host.js";
import { archivesContract } from "./host-contract-archives.js";
import { commandsContract } from "./host-contract-commands.js";
import { filesContract } from "./host-contract-files.js";
import { restoreRefusalsContract } from "./host-contract-refusals.js";
import type { ContractScope } from "./host-contract-helpers.js";
import { tailsContract } from "./host-contract-tails.js";
import { terminalsContract } from "./host-contract-terminals.js";

export interface HostContractSetup {
  host: Host;
  cleanup?: () => Promise<void>;
}

/**
 * The behaviour every Host must show, run identically against LocalHost and
 * RemoteHost. `setup` returns a host that is not yet connected.
 */
export function hostContractSuite(name: string, setup: () => Promise<HostContractSetup>): void {
  describe(`Host contract: ${name}`, () => {
    const scope = {} as ContractScope;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      let host: Host;
      ({ host, cleanup } = await setup());
      scope.host = host;
      await host.connect();
      scope.scratch = await mkdtemp(path.join(os.tmpdir(), "optio-contract-"));
    });

    afterAll(async () => {
      await scope.host?.disconnect();
      await cleanup?.();
      if (scope.scratch) await rm(scope.scratch, { recursive: true, force: true });
    });

    filesContract(scope);
    commandsContract(scope);
    tailsContract(scope);
    archivesContract(scope);
    restoreRefusalsContract(scope);
    terminalsContract(scope);
  });
}
