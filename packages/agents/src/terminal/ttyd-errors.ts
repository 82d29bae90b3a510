import { optioErrorClass } from "@optio/host";

/** ttyd is not at the install dir and installing it was not allowed. */
export class TtydMissingError extends optioErrorClass("ttyd_missing", "TtydMissingError") {}
/** The host's OS or CPU has no prebuilt ttyd release asset. */
export class TtydUnsupportedPlatformError extends optioErrorClass(
  "ttyd_unsupported_platform",
  "TtydUnsupportedPlatformError",
) {}
/** Downloading or installing ttyd on the host failed. */
export class TtydInstallError extends optioErrorClass("ttyd_install_failed", "TtydInstallError") {}
/** ttyd exited or never reported its port. */
export class TtydLaunchError extends optioErrorClass("ttyd_launch_failed", "TtydLaunchError") {}
