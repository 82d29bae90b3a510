import { deleteSeed, listSeeds } from "../seeds/seeds.js";
import { CliUsageError, optionHelp, seedsDeleteOptionSpecs, seedsListOptionSpecs } from "./cli-options.js";
import { type CliIo, createStore, EXIT_DONE, EXIT_FAILED } from "./cli-io.js";
import { jsonLine } from "./event-printer.js";
import { parse } from "./parse-command-line.js";

/** `seeds list` and `seeds delete ID`: the saved logins of this agent in the CLI's store. */
export async function seedsCommand(agent: string, bin: string, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "list") {
    const { values } = parse(rest, seedsListOptionSpecs, false);
    if (values.help) {
      io.stdout.write(`Usage: ${bin} seeds list [--json]\n\n${optionHelp(seedsListOptionSpecs)}\n`);
      return EXIT_DONE;
    }
    const seeds = await listSeeds(createStore(io.env), agent);
    if (values.json) {
      for (const seed of seeds) io.stdout.write(`${jsonLine(seed)}\n`);
    } else if (seeds.length === 0) {
      io.stdout.write(`No seeds saved for ${agent}.\n`);
    } else {
      for (const seed of seeds)
        io.stdout.write(
          `${seed.id}  ${seed.createdAt}  from ${seed.sourceProcessId}${seed.encrypted ? "  (encrypted)" : ""}\n`,
        );
    }
    return EXIT_DONE;
  }
  if (sub === "delete") {
    const { values, positionals } = parse(rest, seedsDeleteOptionSpecs, true);
    if (values.help) {
      io.stdout.write(`Usage: ${bin} seeds delete ID\n\n${optionHelp(seedsDeleteOptionSpecs)}\n`);
      return EXIT_DONE;
    }
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new CliUsageError("seeds delete takes exactly one seed id");
    const store = createStore(io.env);
    const seed = await store.getSeed(id);
    const removed = seed?.agent === agent ? await deleteSeed(store, id) : null;
    if (!removed) {
      io.stderr.write(`${bin}: no ${agent} seed with id ${id}\n`);
      return EXIT_FAILED;
    }
    io.stdout.write(`Deleted seed ${id}.\n`);
    return EXIT_DONE;
  }
  if (sub === "--help" || sub === "-h") {
    io.stdout.write(`Usage:\n  ${bin} seeds list [--json]\n  ${bin} seeds delete ID\n`);
    return EXIT_DONE;
  }
  throw new CliUsageError(
    sub === undefined
      ? "seeds needs a subcommand: list or delete"
      : `unknown seeds subcommand ${JSON.stringify(sub)}: use list or delete`,
  );
}
