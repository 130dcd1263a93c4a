#!/usr/bin/env bash
# `make lock`: pin requirements.in, transitive dependencies included, into requirements.lock,
# resolved afresh in a throw-away virtualenv (so nothing installed by hand leaks in).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out="${1:-$ROOT/requirements.lock}"
python=$(command -v python3.11 || command -v python3) || die "no python3.11 on PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "resolving requirements.in with $python"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.in"
"$tmp/venv/bin/python" -m pip freeze --exclude-editable |
  grep -viE '^(pip|setuptools|wheel)==' >"$tmp/requirements.lock"
mv "$tmp/requirements.lock" "$out"
say "wrote $out ($(wc -l <"$out") packages); run 'make install' to apply it"
