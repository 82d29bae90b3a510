import type { SeedManifest } from "@optio/agents";
import { AUTH_JSON, OPENCODE_CONFIG_DIR } from "./plant.js";

/** A seed is a login and global settings: the auth file and the config dir; never the session database. */
export const OPENCODE_SEED_MANIFEST: SeedManifest = {
  include: [`home/${AUTH_JSON}`, `home/${OPENCODE_CONFIG_DIR}`],
};
