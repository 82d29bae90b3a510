/** Brands optio errors across package copies (an instanceof check fails between two installed copies). */
const OPTIO_ERROR_MARKER = Symbol.for("optio.error");

/**
 * The base of every error optio throws. `code` is stable across releases and
 * safe to branch on; `cause` carries the underlying error when there is one.
 */
export class OptioError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    Object.defineProperty(this, OPTIO_ERROR_MARKER, { value: true });
    this.code = code;
  }

  /** True for any optio error, even one from another copy of this package. */
  static isInstance(value: unknown): value is OptioError {
    return (
      typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[OPTIO_ERROR_MARKER] === true
    );
  }
}

/** Makes an OptioError subclass with a fixed code; `isInstance` checks the code. */
export function optioErrorClass<const C extends string>(code: C, name: string) {
  const cls = class extends OptioError {
    static readonly code: C = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
    static override isInstance(value: unknown): value is OptioError & { code: C } {
      return OptioError.isInstance(value) && value.code === code;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

/** A configuration value was missing or invalid; the message names the field. */
export class OptioConfigError extends optioErrorClass("config_invalid", "OptioConfigError") {}
/** A process id that is not made of `[A-Za-z0-9._-]`. */
export class UnsafeProcessIdError extends optioErrorClass("unsafe_process_id", "UnsafeProcessIdError") {}
/** A path (from a log line, an archive entry, a seed, a config) escapes the directory it must stay in. */
export class PathEscapeError extends optioErrorClass("path_escape", "PathEscapeError") {}
/** An archive could not be read or restored (corrupt, truncated, unsafe). */
export class ArchiveError extends optioErrorClass("archive_invalid", "ArchiveError") {}
/** A restored tree would exceed RestoreOptions' maxBytes or maxEntries (a gzip bomb, or a workdir far larger than expected). */
export class RestoreLimitError extends optioErrorClass("restore_limit", "RestoreLimitError") {}
/** The host refused or dropped the SSH connection. */
export class ConnectionRefusedError extends optioErrorClass("connection_refused", "ConnectionRefusedError") {}
/** The SSH server rejected every credential offered. */
export class AuthenticationError extends optioErrorClass("authentication_failed", "AuthenticationError") {}
/** The SSH server presented a host key that does not match the expected one. */
export class HostKeyMismatchError extends optioErrorClass("host_key_mismatch", "HostKeyMismatchError") {}
/** The SSH connection was lost while an operation was in flight. */
export class ConnectionLostError extends optioErrorClass("connection_lost", "ConnectionLostError") {}
/** An operation was used before `connect()` or after `disconnect()`. */
export class NotConnectedError extends optioErrorClass("not_connected", "NotConnectedError") {}
/** A wait ran past its bound. */
export class OptioTimeoutError extends optioErrorClass("timeout", "OptioTimeoutError") {}
/** The operation was cancelled through its AbortSignal. */
export class OptioAbortError extends optioErrorClass("aborted", "OptioAbortError") {}
/** A download failed (HTTP status, network, checksum). */
export class DownloadError extends optioErrorClass("download_failed", "DownloadError") {}
/** A file the caller asked for does not exist on the host. */
export class FileNotFoundError extends optioErrorClass("file_not_found", "FileNotFoundError") {}
/** A directory or link could not be made on the host: something else is in the way, or no permission. */
export class HostFileError extends optioErrorClass("host_file_error", "HostFileError") {}

/** A file optio reads from the agent's tree is not a regular file there: a symbolic link, a FIFO, a device, a socket. */
export class UnsafeFileError extends optioErrorClass("unsafe_file", "UnsafeFileError") {}

/** A file optio reads from the agent's tree is larger than the cap for what it is. */
export class FileTooLargeError extends optioErrorClass("file_too_large", "FileTooLargeError") {}

/** A checked command exited non-zero. */
export class HostCommandError extends OptioError {
  static readonly code = "host_command_failed";
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(command: string, exitCode: number | null, stderr: string, options?: { cause?: unknown }) {
    const tail = stderr.length > 2000 ? stderr.slice(-2000) : stderr;
    super(
      HostCommandError.code,
      `command exited with ${exitCode === null ? "a signal" : `code ${exitCode}`}: ${command}${tail.trim() ? `\n${tail.trim()}` : ""}`,
      options,
    );
    this.command = command;
    this.exitCode = exitCode;
    this.stderrTail = tail;
  }

  static override isInstance(value: unknown): value is HostCommandError {
    return OptioError.isInstance(value) && value.code === HostCommandError.code;
  }
}
