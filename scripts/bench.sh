#!/usr/bin/env bash
# `make bench` (after `make install`): the benchmark suite of issue 10, on a fresh clone too.
#
#  1. Postgres and Redis (services.sh);
#  2. the scale data (manage.py seed_scale) of BENCH_PRESET in the database BENCH_DB, loaded
#     unless that database already holds the same preset and seed (the load's marker: its
#     pghistory context row; bench/suite.py marker), re-created when it holds another load;
#  3. gunicorn with the production settings (DEBUG=0, a random SECRET_KEY, ALLOWED_HOSTS
#     127.0.0.1, no SSL redirect) plus the per-request query count (bench/settings_bench.py,
#     SALESCTL_QUERY_COUNT=1), WEB_CONCURRENCY sync workers on a free port of 127.0.0.1;
#  4. the driver bench/suite.py: pages, endpoints, reports against hand-written SQL, exports,
#     the workers' memory, the Celery beat jobs; then gunicorn is stopped and
#     docs/benchmarks.md written (BENCH_OUTPUT).
#
# Knobs (environment):
#   BENCH_PRESET    small | medium | large (default large: ~16–18 min to load on 2 cores)
#   BENCH_DB        the database of the bench (default salesctl_bench); never the one of
#                   DATABASE_URL
#   BENCH_SEED      the seed of the load (default 4)
#   BENCH_REUSE=1   use BENCH_DB as it is, whatever it holds (e.g. BENCH_DB=salesctl_scale):
#                   nothing is loaded, migrated or re-created
#   BENCH_JOBS      1: time the jobs on BENCH_DB (each run rolled back; the default);
#                   copy: on a copy of it (CREATE DATABASE … TEMPLATE, which needs nobody
#                   connected to BENCH_DB; the default with BENCH_REUSE=1, skipped when the
#                   copy cannot be made); 0: not at all
#   BENCH_JOBS_BUDGET  seconds after which no further job starts (default 300); a job is
#                   stopped after three times its limit (at least 30 s)
#   BENCH_CLIENTS (20), BENCH_REQUESTS (60 per list case), BENCH_REPORT_REQUESTS (20),
#   BENCH_SERIAL (5, fewer when they take over 10 s), BENCH_CASE_SECONDS (30: no new request
#   of a case's concurrent part after that; a slow report gets fewer than asked),
#   BENCH_THINK_MS (1000: each client — a user — waits 0.5–1.5 × this between its
#   requests; 0: back to back, a closed loop that saturates the machine),
#   BENCH_CAPACITY_SECONDS (20: the capacity probe, the clients without think time over the
#   mix of list cases; 0: skip it),
#   BENCH_ONLY (only the cases whose kind or name contains it),
#   WEB_CONCURRENCY (3 gunicorn workers), BENCH_JSON (also write the raw results there)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

BENCH_STARTED=$(date +%s)
export BENCH_STARTED_AT
BENCH_STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
export BENCH_LOADAVG_START
BENCH_LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

PRESET="${BENCH_PRESET:-large}"
DB="${BENCH_DB:-salesctl_bench}"
SEED="${BENCH_SEED:-4}"
REUSE="${BENCH_REUSE:-0}"
WORKERS="${WEB_CONCURRENCY:-3}"
OUTPUT="${BENCH_OUTPUT:-$ROOT/docs/benchmarks.md}"
if [[ $REUSE == 1 ]]; then JOBS="${BENCH_JOBS:-copy}"; else JOBS="${BENCH_JOBS:-1}"; fi
JOBS_DB=""
JOBS_COPY=""
JOBS_SKIPPED=""
GUNICORN_PID=""

[[ $PRESET =~ ^(small|medium|large)$ ]] || die "BENCH_PRESET: small, medium or large, not '$PRESET'"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB: a plain database name, not '$DB'"

stop_gunicorn() {
  [[ -n $GUNICORN_PID ]] || return 0
  if kill -0 "$GUNICORN_PID" 2>/dev/null; then
    say "stopping gunicorn (pid $GUNICORN_PID)"
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    local waited=0
    while kill -0 "$GUNICORN_PID" 2>/dev/null && ((waited < 150)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    kill -0 "$GUNICORN_PID" 2>/dev/null && kill -KILL "$GUNICORN_PID" 2>/dev/null
  fi
  wait "$GUNICORN_PID" 2>/dev/null || true
  GUNICORN_PID=""
}

drop_jobs_copy() {
  [[ -n $JOBS_COPY ]] || return 0
  say "dropping the jobs' copy $JOBS_COPY"
  psql_admin -c "DROP DATABASE IF EXISTS \"$JOBS_COPY\"" >/dev/null || warn "could not drop $JOBS_COPY"
  JOBS_COPY=""
}

cleanup() {
  stop_gunicorn
  drop_jobs_copy
  services_down
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

services_up

# DATABASE_URL with another database name (same server, user, password).
url_with_db() {
  "$PY" - "$DATABASE_URL" "$1" <<'PYTHON'
import sys
from urllib.parse import urlsplit, urlunsplit
parts = urlsplit(sys.argv[1])
print(urlunsplit(parts._replace(path="/" + sys.argv[2])))
PYTHON
}
BENCH_URL=$(url_with_db "$DB")
ADMIN_URL=$(url_with_db postgres)
CONFIGURED_DB=$("$PY" -c 'import sys; from urllib.parse import urlsplit; print(urlsplit(sys.argv[1]).path.lstrip("/"))' "$DATABASE_URL")
[[ $DB != "$CONFIGURED_DB" ]] || die "BENCH_DB is the database of DATABASE_URL ($DB): choose another"

psql_admin() { "$PY" "$ROOT/scripts/services.py" pg-wait "$ADMIN_URL" 0 >/dev/null && _sql "$ADMIN_URL" "$@"; }
# One statement on a database through psycopg (psql may not be installed).
_sql() {
  local url=$1
  shift
  [[ $1 == -c ]] && shift
  "$PY" - "$url" "$1" <<'PYTHON'
import sys
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    cur = conn.execute(sys.argv[2])
    if cur.description:
        for row in cur.fetchall():
            print("|".join("" if v is None else str(v) for v in row))
PYTHON
}

# Settings of every Django process below: production, on the bench database, with a cache
# prefix of its own (the bench's cached figures must never be served to a development server
# sharing this Redis), e-mail kept in memory.
export DATABASE_URL="$BENCH_URL"
export DEBUG=0
export SECRET_KEY
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=0
export CACHE_KEY_PREFIX="salesctl-bench-$DB"
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export DJANGO_SETTINGS_MODULE=bench.settings_bench
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"

# --- the data ----------------------------------------------------------------------------
marker=$("$PY" "$ROOT/bench/suite.py" marker --database "$DB")
export BENCH_LOAD_SECONDS=""
if [[ $REUSE == 1 ]]; then
  [[ $marker != absent ]] || die "BENCH_REUSE=1 but there is no database $DB"
  say "using $DB as it is (BENCH_REUSE=1; its load: $marker)"
elif [[ $marker == "$PRESET $SEED "* ]]; then
  say "$DB already holds the $PRESET preset with seed $SEED ($marker): reusing it"
  say "migrating $DB"
  DEBUG=1 manage migrate --noinput -v0
else
  recreate=()
  case $marker in
    absent | empty) ;;
    *)
      say "$DB holds another load ($marker): re-creating it"
      recreate=(--recreate)
      ;;
  esac
  say "loading the $PRESET preset (seed $SEED) into $DB — the large one takes ~16–18 minutes"
  load_started=$(date +%s)
  # seed_scale refuses a database that has data but no marker (not ours to drop).
  DEBUG=1 DATABASE_URL="$(url_with_db "$CONFIGURED_DB")" manage seed_scale --preset "$PRESET" \
    --seed "$SEED" --database-name "$DB" "${recreate[@]}"
  BENCH_LOAD_SECONDS=$(($(date +%s) - load_started))
fi

# --- where the jobs run ------------------------------------------------------------------
case $JOBS in
  0) JOBS_SKIPPED="BENCH_JOBS=0" ;;
  1) JOBS_DB=$DB ;;
  copy)
    copy="${DB}_jobs"
    say "copying $DB to $copy for the jobs"
    psql_admin -c "DROP DATABASE IF EXISTS \"$copy\"" >/dev/null
    if psql_admin -c "CREATE DATABASE \"$copy\" TEMPLATE \"$DB\"" >/dev/null 2>"$DATA_DIR/bench-copy.err"; then
      JOBS_DB=$copy
      JOBS_COPY=$copy
    else
      JOBS_SKIPPED="no copy of $DB could be made ($(tail -n1 "$DATA_DIR/bench-copy.err" | cut -c1-160))"
      warn "$JOBS_SKIPPED: the jobs are not timed"
    fi
    ;;
  *) die "BENCH_JOBS: 0, 1 or copy, not '$JOBS'" ;;
esac

# --- gunicorn ----------------------------------------------------------------------------
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export WEB_CONCURRENCY="$WORKERS"
# A generous timeout: a slow report is a figure of the table, not a killed worker.
export BENCH_GUNICORN_ARGS="gunicorn salesctl.wsgi --workers $WORKERS --timeout 120 --graceful-timeout 5"
say "gunicorn on 127.0.0.1:$PORT, $WORKERS workers (log: $DATA_DIR/bench-gunicorn.log)"
mkdir -p "$DATA_DIR"
# shellcheck disable=SC2086
SALESCTL_QUERY_COUNT=1 $BENCH_GUNICORN_ARGS --bind "127.0.0.1:$PORT" \
  >"$DATA_DIR/bench-gunicorn.log" 2>&1 &
GUNICORN_PID=$!

# --- the driver --------------------------------------------------------------------------
args=(run --database "$DB" --base-url "http://127.0.0.1:$PORT" --gunicorn-pid "$GUNICORN_PID"
  --workers "$WORKERS" --output "$OUTPUT"
  --clients "${BENCH_CLIENTS:-20}" --requests "${BENCH_REQUESTS:-60}"
  --report-requests "${BENCH_REPORT_REQUESTS:-20}" --serial "${BENCH_SERIAL:-5}"
  --case-seconds "${BENCH_CASE_SECONDS:-30}" --think-ms "${BENCH_THINK_MS:-1000}"
  --capacity-seconds "${BENCH_CAPACITY_SECONDS:-20}")
[[ -n $JOBS_DB ]] && args+=(--jobs-database "$JOBS_DB")
[[ -n $JOBS_SKIPPED ]] && args+=(--jobs-skipped "$JOBS_SKIPPED")
args+=(--jobs-budget "${BENCH_JOBS_BUDGET:-300}")
[[ -n ${BENCH_ONLY:-} ]] && args+=(--only "$BENCH_ONLY")
[[ -n ${BENCH_JSON:-} ]] && args+=(--json "$BENCH_JSON")
"$PY" "$ROOT/bench/suite.py" "${args[@]}"

stop_gunicorn
say "make bench took $(($(date +%s) - BENCH_STARTED)) s; the report: ${OUTPUT#"$ROOT"/}"
