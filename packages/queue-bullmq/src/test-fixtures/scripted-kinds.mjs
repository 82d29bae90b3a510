// The task kinds module the CLI tests pass to --kinds: the scripted stand-in, keeping its files under $OPTIO_SCRIPTED_ROOT.
import { scriptedTaskKind } from "../../dist/testing.js";

export const kinds = [scriptedTaskKind(process.env.OPTIO_SCRIPTED_ROOT)];
