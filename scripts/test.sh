#!/usr/bin/env bash
# `make test` (after `make install`): lint, format, migrations and deploy checks, then the whole
# pytest suite, browser tests included, against a real Postgres, Redis and Chromium. Any step
# failing fails the run; a missing service is a failure, never a skip.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

# Not the database `make run`'s worker reads its queues from: a job a test enqueues must not be
# run by a developer's worker against the development database.
export SALESCTL_REDIS_DB="${SALESCTL_REDIS_DB:-1}"

TIMES=()
started=$SECONDS
report() {
  local rc=$?
  services_down
  if ((${#TIMES[@]})); then
    echo
    echo "make test: time per step"
    printf '  %s\n' "${TIMES[@]}"
    printf '  %-34s %5ss\n' "total" "$((SECONDS - started))"
  fi
  exit "$rc"
}
trap report EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME COMMAND…: run it, note its time, stop the run when it fails. (A shell function run
# this way would lose `set -e` inside it: steps are single commands.)
step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  say "$name"
  "$@" || rc=$?
  TIMES+=("$(printf '%-34s %5ss%s' "$name" "$((SECONDS - t0))" "$([[ $rc != 0 ]] && echo "  FAILED (exit $rc)")")")
  return "$rc"
}

ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return
  apt_install chromium fonts-noto-cjk || die "Chromium is missing: apt-get install chromium"
}

deploy_check() {
  # Production-like: DEBUG off, a long random key, real host names, every security switch on.
  # Everything is set here so that a developer's .env cannot soften it.
  env DEBUG=0 \
    SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    ALLOWED_HOSTS=salesctl.example.com CSRF_TRUSTED_ORIGINS=https://salesctl.example.com \
    SESSION_COOKIE_SECURE=1 CSRF_COOKIE_SECURE=1 SECURE_SSL_REDIRECT=1 \
    SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
    "$PY" manage.py check --deploy --fail-level WARNING
}

t0=$SECONDS
ensure_chromium
services_up
TIMES+=("$(printf '%-34s %5ss' "Chromium, Postgres and Redis" "$((SECONDS - t0))")")
step "ruff check" ruff check .
step "ruff format --check" ruff format --check .
step "makemigrations --check" env DEBUG=1 "$PY" manage.py makemigrations --check --dry-run
step "check --deploy" deploy_check
# pytest exits 5 when it ran no test: that fails the run like any other non-zero status.
step "pytest" pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
# Schemathesis against the app under gunicorn (scripts/schemathesis.sh, about 3 minutes): after
# pytest, whose failures say more precisely what broke and would otherwise come 3 minutes later.
step "schemathesis" "$ROOT/scripts/schemathesis.sh"
