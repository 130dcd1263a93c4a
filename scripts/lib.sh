# shellcheck shell=bash
# Shared by the scripts behind the Makefile: paths, logging, and installing OS packages.
# Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
cd "$ROOT" || exit 1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning: %s\033[0m\n' "$*" >&2; }
die() {
  printf '\033[31merror: %s\033[0m\n' "$*" >&2
  exit 1
}

manage() { "$PY" "$ROOT/manage.py" "$@"; }

# Run a command as root: directly when we are root, through sudo when it needs no password.
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

# Install Debian packages (apt-get update once per script run). Fails when not root and no
# password-less sudo, or when this is not a Debian-like system.
_APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [[ $_APT_UPDATED == 0 ]]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    _APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return 1
}
