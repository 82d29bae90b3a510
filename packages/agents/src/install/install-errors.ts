import { optioErrorClass } from "@optio/host";

/** The host's OS, CPU or libc is not one an installer has a build for; the message names what was found. */
export class UnsupportedPlatformError extends optioErrorClass("unsupported_platform", "UnsupportedPlatformError") {}

/** A registry request (packument or tarball) failed: HTTP status or network. */
export class PackageFetchError extends optioErrorClass("package_fetch_failed", "PackageFetchError") {
  readonly url: string;
  /** The HTTP status, or null for a network failure. */
  readonly status: number | null;

  constructor(url: string, status: number | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
    this.status = status;
  }
}

/** Downloaded bytes do not match the integrity the registry published for them. */
export class IntegrityMismatchError extends optioErrorClass("integrity_mismatch", "IntegrityMismatchError") {}

/** A vendor install script could not be fetched or exited non-zero. */
export class VendorScriptError extends optioErrorClass("vendor_script_failed", "VendorScriptError") {
  readonly url: string;
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(
    url: string,
    exitCode: number | null,
    stderrTail: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.url = url;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }
}

/** The agent's binary is missing and installing it was not allowed. */
export class AgentNotInstalledError extends optioErrorClass("agent_not_installed", "AgentNotInstalledError") {}

/** One install strategy's failure, kept so the final error can list them all. */
export interface InstallAttempt {
  strategy: string;
  error: unknown;
}

/** Every install strategy failed; `attempts` holds each one's error in order. */
export class AgentInstallError extends optioErrorClass("agent_install_failed", "AgentInstallError") {
  readonly attempts: readonly InstallAttempt[];

  constructor(message: string, attempts: readonly InstallAttempt[]) {
    const detail = attempts
      .map((a) => `- ${a.strategy}: ${a.error instanceof Error ? a.error.message : String(a.error)}`)
      .join("\n");
    super(detail ? `${message}\n${detail}` : message, { cause: attempts.at(-1)?.error });
    this.attempts = attempts;
  }
}

/** A registry install spec names a path outside its package; `field` names the spec field. */
export class InvalidRegistrySpecError extends optioErrorClass("invalid_registry_spec", "InvalidRegistrySpecError") {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}
