#!/usr/bin/env bash
# Schemathesis against a live server (issue 9, "Schema quality"), the step "schemathesis" of
# `make test`: every operation of /api/schema/ is called with generated input, as a manager and
# as a rep, and must answer no 5xx, no status the schema does not list, the documented content
# type, a body that matches the documented schema, and the documented headers.
#
# On a throw-away database (dropped and created again on every run, and left behind for a look
# at a failure): migrations, the demo data (`seed_demo`), a token per user; then the app under
# gunicorn with production settings (DEBUG off) except plain http, on a free port of 127.0.0.1.
#
#   manager1   every phase: the coverage phase's boundary and invalid values of every
#              parameter and body field (deterministic), then random cases and linked calls;
#   rep1       the same phases with valid input only: the other scope's answers (its 403s and
#              404s, its rows through the response schemas) — invalid input is refused alike.
#
# Knobs: SCHEMATHESIS_RUNS (user:mode pairs, default "manager1:all rep1:positive"; "erp:all"
# adds the integration user, about 50 s more), SCHEMATHESIS_MAX_EXAMPLES (random cases per
# operation, default 6), SCHEMATHESIS_SEED (default 9), SCHEMATHESIS_ARGS (more `st run`
# options, e.g. "--include-path-regex ^/api/v1/customers"), SCHEMATHESIS_DB
# (salesctl_schemathesis). The server's log (a 500's traceback), the JUnit reports and st's own
# files land in .data/schemathesis/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-6}"
SEED="${SCHEMATHESIS_SEED:-9}"
DB_NAME="${SCHEMATHESIS_DB:-salesctl_schemathesis}"
OUT="$DATA_DIR/schemathesis"
# user:mode, the mode of `st run` (positive: valid input only; all: valid and invalid)
read -r -a RUNS <<<"${SCHEMATHESIS_RUNS:-manager1:all rep1:positive}"
# Revoking its own token (which the token list offers it) would leave the rest of a run to
# 401s; the revocation has its tests in tests/api/test_tokens.py.
EXCLUDE='^/api/v1/tokens/\{id\}/revoke/$'

SERVER_PID=""
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  local rc=$?
  stop_server
  # The cache keys of this run (the rate limit's counters), not the rest of the shared Redis.
  [[ -n ${CACHE_KEY_PREFIX:-} ]] && "$PY" - "$REDIS_URL" "$CACHE_KEY_PREFIX" <<'PY' || true
import sys

import redis

client = redis.Redis.from_url(sys.argv[1])
for key in client.scan_iter(match=f"{sys.argv[2]}:*", count=1000):
    client.delete(key)
PY
  services_down
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

services_up
rm -rf "$OUT" && mkdir -p "$OUT"

# Everything the app reads is set here, so that neither .env nor the caller's environment can
# change what is tested: production settings, except plain http on 127.0.0.1, and
# - the database: DATABASE_URL's server, a database of its own;
# - the rate limit per token (API_RATE_LIMIT): out of the way, a fuzzer is a burst by design;
# - Celery: an in-process broker, so that no job this run queues (e-mail, webhooks) reaches a
#   worker on the shared Redis, which would run it against another database;
# - the cache: a key prefix of this run's own on the shared Redis (removed at the end).
DATABASE_URL=$("$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$DB_NAME")
SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DATABASE_URL SECRET_KEY DEBUG=0
export ALLOWED_HOSTS=127.0.0.1 CSRF_TRUSTED_ORIGINS=http://127.0.0.1
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
export API_RATE_LIMIT=1000000/min
export CELERY_BROKER_URL=memory:// CELERY_RESULT_BACKEND=cache+memory://
export CACHE_KEY_PREFIX="salesctl-schemathesis-$$"
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export LOG_LEVEL=ERROR # the tracebacks of 500s, not a line per 4xx

say "schemathesis: database $DB_NAME (dropped and created again), migrations, demo data"
"$PY" - "$DATABASE_URL" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
manage migrate --noinput >"$OUT/migrate.log"
manage seed_demo >"$OUT/seed.log"

declare -A TOKENS
for run in "${RUNS[@]}"; do
  user=${run%%:*}
  TOKENS[$user]=$(manage issue_token "$user" --days 1 --name schemathesis | tail -n 1)
done

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
say "schemathesis: gunicorn on $URL (log: $OUT/server.log)"
# --limit-request-line 0: a long query string reaches the app (which must answer it) instead of
# gunicorn's own HTML 414; in production the proxy in front sets that limit.
gunicorn salesctl.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 --graceful-timeout 5 \
  --limit-request-line 0 >"$OUT/server.log" 2>&1 &
SERVER_PID=$!

# status URL [TOKEN]: the HTTP status of a GET (0 when nothing answers).
status() {
  "$PY" - "$@" <<'PY'
import sys, urllib.error, urllib.request

request = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    request.add_header("Authorization", f"Bearer {sys.argv[2]}")
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        print(response.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print(0)
PY
}
for _ in $(seq 150); do
  [[ $(status "$URL/healthz") == 200 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.2
done
[[ $(status "$URL/healthz") == 200 ]] || { tail -n 30 "$OUT/server.log" >&2; die "the server did not start"; }

# No cache: st would replay requests it kept from an earlier run (of another database). The
# coverage phase would also send every method an address does not have (405s), which no check
# selected here looks at. The warnings (missing test data, ...) are advice, not failures.
cat >"$OUT/schemathesis.toml" <<'TOML'
warnings = false

[cache]
enabled = false

[phases.coverage]
unexpected-methods = []
TOML

read -r -a EXTRA <<<"${SCHEMATHESIS_ARGS:-}" # split on blanks, no glob: regexes stay intact
rc=0
cd "$OUT" # where st keeps its own files (.schemathesis/, .hypothesis/)
for run in "${RUNS[@]}"; do
  user=${run%%:*} mode=${run#*:}
  say "schemathesis: every operation as $user ($mode input; $MAX_EXAMPLES random cases each, seed $SEED)"
  st --config-file schemathesis.toml --no-color run "$URL/api/schema/" \
    --header "Authorization: Bearer ${TOKENS[$user]}" --header "Accept-Language: en" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --mode "$mode" --max-examples "$MAX_EXAMPLES" --seed "$SEED" --generation-database none \
    --exclude-path-regex "$EXCLUDE" --workers 2 --request-timeout 30 \
    --report junit --report-junit-path "$user.xml" \
    "${EXTRA[@]}" || rc=1
  # A run whose token stopped working passed on 401s alone: that is a failure too.
  code=$(status "$URL/api/v1/users/me/" "${TOKENS[$user]}")
  if [[ $code != 200 ]]; then
    warn "the token of $user answers $code after the run: most of it tested nothing but 401s"
    rc=1
  fi
done

if [[ $rc != 0 ]] && grep -q "^Internal Server Error" "$OUT/server.log"; then
  say "schemathesis: the server's errors, where they were raised (tracebacks: $OUT/server.log)"
  "$PY" - "$OUT/server.log" <<'PY' >&2
import re, sys

seen = set()
for block in re.split(r"^(?=Internal Server Error: )", open(sys.argv[1]).read(), flags=re.M)[1:]:
    lines = block.splitlines()
    frames = [line.strip() for line in lines if line.strip().startswith('File "') and "/apps/" in line]
    error = next((line for line in reversed(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)), "")
    where = frames[-1] if frames else ""
    if (lines[0], where, error.split(":")[0]) not in seen:
        seen.add((lines[0], where, error.split(":")[0]))
        print("\n".join(part for part in (lines[0], where, error) if part), end="\n\n")
PY
fi
exit "$rc"
