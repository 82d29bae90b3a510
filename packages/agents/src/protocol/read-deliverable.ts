import { type Host, shellQuote } from "@optio/host";

/**
 * Run by perl on the host: walks from the workdir to the file one directory
 * at a time, each checked with lstat to be a real directory and, once
 * entered, to be the same inode (a directory swapped for a symlink in
 * between is caught); opens the file itself with O_NOFOLLOW and O_NONBLOCK
 * (a FIFO never blocks), checks the opened handle is a regular file no larger
 * than the cap, and reads at most cap + 1 bytes. Prints `ok:<hex>` or `no:<reason>`.
 */
const READER = String.raw`
use strict; use Fcntl qw(O_RDONLY O_NOFOLLOW O_NONBLOCK S_ISREG);
my ($root, $max, @parts) = @ARGV;
sub no_ { print "no:$_[0]"; exit 0 }
chdir $root or no_("the workdir cannot be entered");
my $name = pop @parts;
for my $dir (@parts) {
  my @l = lstat($dir) or no_("$dir does not exist");
  -d _ or no_("$dir is not a directory");
  chdir $dir or no_("$dir cannot be entered");
  my @s = stat(".");
  ($s[0] == $l[0] && $s[1] == $l[1]) or no_("$dir changed while it was read");
}
sysopen(my $fh, $name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) or no_("it cannot be opened without following a link: $!");
my @st = stat($fh);
S_ISREG($st[2]) or no_("it is not a regular file");
$st[7] > $max and no_("it is $st[7] bytes, over the limit of $max bytes (maxDeliverableBytes)");
my ($data, $got) = ("", 0);
while (($got = sysread($fh, $data, 65536, length $data)) ) { length($data) > $max and no_("it grew over the limit of $max bytes (maxDeliverableBytes)") }
defined $got or no_("reading it failed: $!");
print "ok:", unpack("H*", $data);
`;

export type DeliverableRead = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/** Reads `parts` (below `realWorkdir`, no symlinks in them) without following any link that appears meanwhile. */
export async function readDeliverable(host: Host, realWorkdir: string, parts: readonly string[], maxBytes: number): Promise<DeliverableRead> {
  const { stdout, stderr, exitCode } = await host.runCommand(["perl", "-e", READER, realWorkdir, String(maxBytes), ...parts].map(shellQuote).join(" "));
  if (exitCode !== 0) return { ok: false, reason: `it could not be read (exit ${exitCode}): ${stderr.trim()}` };
  if (stdout.startsWith("ok:")) return { ok: true, bytes: Buffer.from(stdout.slice(3), "hex") };
  return { ok: false, reason: stdout.startsWith("no:") ? stdout.slice(3) : `unexpected output from the reader: ${JSON.stringify(stdout.slice(0, 200))}` };
}
