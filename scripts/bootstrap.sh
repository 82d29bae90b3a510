#!/usr/bin/env bash
# Brings a machine that has only Node.js 20 to where the demo and the tests
# run: the system packages they use, the pinned pnpm, and the workspace's
# dependencies (node-pty is compiled here, against Node's local headers).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tmux >/dev/null || need_apt+=(tmux)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh-keygen >/dev/null || need_apt+=(openssh-client)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v git >/dev/null || need_apt+=(git)
command -v make >/dev/null || need_apt+=(make)
command -v g++ >/dev/null || need_apt+=(g++)
command -v python3 >/dev/null || need_apt+=(python3)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need_apt[@]}" ca-certificates
fi

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  npm install -g "pnpm@$want_pnpm"
fi

# node-gyp cannot fetch Node's headers offline; npm knows where the local ones are, pnpm does not pass it on.
npm_config_nodedir=$(npm config get nodedir)
export npm_config_nodedir
pnpm install --frozen-lockfile
