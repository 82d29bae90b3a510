import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestSshd } from "@optio/host/testing";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type ScriptedModel, type ScriptedModelOptions, startScriptedModel } from "./scripted-model.js";
import { taskRootsIn } from "./task-roots.js";

/** What a suite over a real agent binary holds for all its tests, filled in by its beforeAll. */
export interface RealBinaryFixture {
  /** A temp dir holding the suite's task roots, store and files; removed after the suite. */
  root: string;
  /** `<root>/bin`, where the real binary is installed or reused. */
  installDir: string;
  /** The sshd of the suite's SSH runs, stopped after the suite. */
  sshd: TestSshd;
  /** Starts the scripted model of the running test, closing the one before; it is closed after each test. */
  startModel(options: ScriptedModelOptions): Promise<ScriptedModel>;
}

/** Registers the hooks that make and remove a RealBinaryFixture for the suite `name` of `adapterId`. */
export function realBinaryFixture(name: string, adapterId: string, ssh: () => Promise<TestSshd>): RealBinaryFixture {
  let restoreTaskRoots: (() => void) | undefined;
  let model: ScriptedModel | undefined;
  const fx = {
    startModel: async (options: ScriptedModelOptions) => {
      await model?.close();
      model = await startScriptedModel(options);
      return model;
    },
  } as RealBinaryFixture;
  beforeAll(async () => {
    fx.root = await mkdtemp(join(tmpdir(), `optio-${name}-${adapterId}-`));
    fx.installDir = join(fx.root, "bin");
    restoreTaskRoots = taskRootsIn(adapterId, fx.root);
    fx.sshd = await ssh();
  });
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });
  afterAll(async () => {
    await fx.sshd?.stop();
    restoreTaskRoots?.();
    await rm(fx.root, { recursive: true, force: true });
  });
  return fx;
}
