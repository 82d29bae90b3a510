import { envAssignments, shellQuote } from "@optio/host";
import { VendorScriptError } from "./install-errors.js";
import type { InstallContext } from "./registry-package.js";

/** A vendor's `curl … | sh` installer: its URL and environment. */
export interface VendorScriptOptions {
  /** The install script's URL; fetched on the host. */
  url: string;
  /** The interpreter the script is fed to. Default `bash`. */
  shell?: string;
  /** Extra variables for the script. */
  env?: Record<string, string>;
  /** Default 10 minutes. */
  timeoutMs?: number;
}

// Exit codes of our own wrapper, distinct from anything curl or the script is likely to use.
const NO_FETCHER = 180;
const FETCH_FAILED = 181;

/**
 * Runs a vendor's `curl … | bash` installer on the host. The script is
 * saved to a temp file first, so a failed download is an error with curl's
 * reason instead of an empty script that "succeeds". Falls back to wget.
 */
export async function installViaVendorScript(ctx: InstallContext, options: VendorScriptOptions): Promise<void> {
  const { url, shell = "bash" } = options;
  const u = shellQuote(url);
  const script = [
    "set -u",
    'tmp=$(mktemp "${TMPDIR:-/tmp}/optio-install.XXXXXX") || exit 1',
    "trap 'rm -f \"$tmp\"' EXIT",
    `if command -v curl >/dev/null 2>&1; then curl -fsSL ${u} -o "$tmp" || exit ${FETCH_FAILED}`,
    `elif command -v wget >/dev/null 2>&1; then wget -q -O "$tmp" ${u} || exit ${FETCH_FAILED}`,
    `else echo "neither curl nor wget is installed on the host" >&2; exit ${NO_FETCHER}; fi`,
    `${options.env ? `env ${envAssignments(options.env).join(" ")} ` : ""}${shellQuote(shell)} "$tmp"`,
  ].join("\n");
  ctx.reportProgress(null, `Running the vendor installer ${url}…`);
  const result = await ctx.host.runCommand(script, { signal: ctx.signal, timeoutMs: options.timeoutMs ?? 600_000 });
  if (result.exitCode === 0) return;
  const tail = result.stderr.trim().slice(-2000);
  const what =
    result.exitCode === FETCH_FAILED
      ? `could not download the installer ${url}`
      : result.exitCode === NO_FETCHER
        ? `could not download the installer ${url}: neither curl nor wget is installed`
        : `the installer ${url} exited with ${result.exitCode === null ? "a signal" : `code ${result.exitCode}`}`;
  throw new VendorScriptError(url, result.exitCode, tail, tail ? `${what}: ${tail}` : what);
}
