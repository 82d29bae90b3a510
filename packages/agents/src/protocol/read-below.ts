import { type Host, shellQuote } from "@optio/host";

/**
 * Run by perl on the host: walks from the root to the file one directory
 * at a time, each checked with lstat to be a real directory and, once
 * entered, to be the same inode (a directory swapped for a symlink in
 * between is caught); opens the file itself with O_NOFOLLOW and O_NONBLOCK
 * (a FIFO never blocks), checks the opened handle is a regular file no larger
 * than the cap, and reads at most cap + 1 bytes. Prints `ok:<hex>`,
 * `missing:<reason>`, `big:<reason>` or `no:<reason>`.
 */
const READER = String.raw`
use strict; use Fcntl qw(O_RDONLY O_NOFOLLOW O_NONBLOCK S_ISREG); use Errno qw(ENOENT);
my ($root, $max, $cap, @parts) = @ARGV;
sub out { print "$_[0]:$_[1]"; exit 0 }
sub no_ { out("no", $_[0]) }
chdir $root or no_("the workdir cannot be entered");
my $name = pop @parts;
for my $dir (@parts) {
  my @l = lstat($dir) or ($! == ENOENT ? out("missing", "$dir does not exist") : no_("$dir cannot be looked at: $!"));
  -d _ or no_("$dir is not a directory");
  chdir $dir or no_("$dir cannot be entered");
  my @s = stat(".");
  ($s[0] == $l[0] && $s[1] == $l[1]) or no_("$dir changed while it was read");
}
sysopen(my $fh, $name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) or ($! == ENOENT ? out("missing", "it does not exist") : no_("it cannot be opened without following a link: $!"));
my @st = stat($fh);
S_ISREG($st[2]) or no_("it is not a regular file");
$st[7] > $max and out("big", "it is $st[7] bytes, over the limit of $max bytes ($cap)");
my ($data, $got) = ("", 0);
while (($got = sysread($fh, $data, 65536, length $data)) ) { length($data) > $max and out("big", "it grew over the limit of $max bytes ($cap)") }
defined $got or no_("reading it failed: $!");
print "ok:", unpack("H*", $data);
`;

export type BelowRead = { ok: true; bytes: Buffer } | { ok: false; kind: "missing" | "big" | "unsafe"; reason: string };

const KINDS = { missing: "missing", big: "big", no: "unsafe" } as const;

/**
 * Reads `parts` below `root` (a directory optio trusts) without following
 * any link among them or in the file's place, and at most `maxBytes`;
 * `cap` names the limit in the reason. Never blocks on a FIFO.
 */
export async function readBelow(
  host: Host,
  root: string,
  parts: readonly string[],
  maxBytes: number,
  cap: string,
): Promise<BelowRead> {
  const { stdout, stderr, exitCode } = await host.runCommand(
    ["perl", "-e", READER, root, String(maxBytes), cap, ...parts].map(shellQuote).join(" "),
  );
  if (exitCode !== 0)
    return { ok: false, kind: "unsafe", reason: `it could not be read (exit ${exitCode}): ${stderr.trim()}` };
  if (stdout.startsWith("ok:")) return { ok: true, bytes: Buffer.from(stdout.slice(3), "hex") };
  const colon = stdout.indexOf(":");
  const kind = KINDS[stdout.slice(0, colon) as keyof typeof KINDS];
  if (colon === -1 || kind === undefined)
    return {
      ok: false,
      kind: "unsafe",
      reason: `unexpected output from the reader: ${JSON.stringify(stdout.slice(0, 200))}`,
    };
  return { ok: false, kind, reason: stdout.slice(colon + 1) };
}
