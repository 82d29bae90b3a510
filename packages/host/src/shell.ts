/**
 * The one place shell strings are built from values. POSIX single quotes
 * keep every byte literal (spaces, `$`, backquotes, newlines); an embedded
 * single quote is closed, escaped and reopened.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("a shell argument cannot contain a NUL byte");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** argv → one shell command line. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** `NAME=value` assignments for `env`, each quoted; names are checked, not quoted. */
export function envAssignments(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new TypeError(`not a valid environment variable name: ${JSON.stringify(name)}`);
    return shellQuote(`${name}=${value}`);
  });
}
