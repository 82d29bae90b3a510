/**
 * The test settings optio's shared suites need, for an adapter package's own
 * `vitest.config.ts`: `export default defineConfig(adapterVitestPreset)`.
 * The suites start real processes (tmux, sshd, the agent, a browser), so a
 * test gets a minute and a hook two; test files run one at a time, as real
 * agents on a small machine slow each other past those bounds.
 */
export const adapterVitestPreset = {
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
};
