/** Import rules checked by `pnpm lint`. */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycle",
      comment: "Folders of a package's src import each other in one direction only.",
      severity: "error",
      scope: "folder",
      from: { path: "^packages/[^/]+/src/" },
      to: { circular: true },
    },
    {
      name: "spec-is-the-floor",
      comment:
        "The contract in @optio/agents' spec/ imports nothing else from the package; everything else imports down into it.",
      severity: "error",
      from: { path: "^packages/agents/src/spec/", pathNot: "\\.test\\.ts$" },
      to: { path: "^packages/agents/src/", pathNot: "^packages/agents/src/spec/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(node_modules|/dist/|\\.test\\.ts$)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
  },
};
