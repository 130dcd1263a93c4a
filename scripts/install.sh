#!/usr/bin/env bash
# `make install`: the virtualenv with the pinned dependencies, compiled translations and the
# collected static files. Fast when nothing changed: each part is skipped while its stamp is
# newer than what it is built from.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STAMP="$VENV/.installed"

pick_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  die "no python3.11 (nor python3) on PATH"
}

lock_digest() { sha256sum "$ROOT/requirements.lock" | cut -d' ' -f1; }

install_venv() {
  if [[ -x $PY ]] && "$PY" -c 'import sys' 2>/dev/null && [[ -f $STAMP ]] &&
    [[ $(cat "$STAMP") == "$(lock_digest)" ]]; then
    return
  fi
  if ! [[ -x $PY ]] || ! "$PY" -c 'import sys' 2>/dev/null; then
    local python
    python=$(pick_python)
    "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
      warn "$python is not Python 3.11, which requirements.lock is pinned for"
    say "creating .venv with $python"
    rm -rf "$VENV"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      # Debian's python3 ships venv's pip bootstrap in a separate package.
      apt_install python3-venv || die "'$python -m venv' failed; install python3-venv"
      "$python" -m venv "$VENV"
    fi
  fi
  say "installing requirements.lock into .venv"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.lock"
  lock_digest >"$STAMP"
}

compile_messages() {
  [[ -d $ROOT/locale ]] || return 0
  if [[ -f $STAMP.mo ]]; then
    local po
    po=$(find "$ROOT/locale" -name '*.po' -newer "$STAMP.mo" | head -n1)
    [[ -z $po ]] && return 0
  fi
  if ! command -v msgfmt >/dev/null; then
    apt_install gettext || die "msgfmt is missing: install gettext"
  fi
  say "compiling translations"
  DEBUG=1 manage compilemessages --ignore=.venv --ignore=.data --ignore=node_modules -v0
  touch "$STAMP.mo"
}

collect_static() {
  local manifest="$ROOT/staticfiles/staticfiles.json"
  if [[ -f $manifest && $manifest -nt $STAMP ]] &&
    [[ -z $(find "$ROOT/static" "$ROOT"/apps/*/static -newer "$manifest" 2>/dev/null | head -n1) ]]; then
    return
  fi
  say "collecting static files into staticfiles/"
  # The production storage (hashed names + manifest), whatever DEBUG a developer runs with;
  # no real secret is needed to copy files.
  DEBUG=0 SECRET_KEY=collectstatic-only manage collectstatic --noinput -v0
}

install_venv
compile_messages
collect_static
