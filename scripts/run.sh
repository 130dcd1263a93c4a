#!/usr/bin/env bash
# `make run` (after `make install`): Postgres and Redis (see services.sh), migrations, the demo
# data, then web + Celery worker + beat in the foreground under honcho. Ctrl-C stops all of
# them, and the private Postgres/Redis if it had to start them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

export DEBUG="${DEBUG:-1}"
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"

trap services_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

services_up
say "migrating"
manage migrate --noinput
say "loading the demo data"
manage seed_demo

url_host=$HOST
[[ $url_host == 0.0.0.0 || $url_host == "::" ]] && url_host=127.0.0.1
url="http://$url_host:$PORT"
cat <<BANNER

  salesctl is starting: web, Celery worker and beat (Ctrl-C stops them all)

    URL        $url/
    API docs   $url/api/docs/
    Health     $url/healthz
    Database   ${DATABASE_URL}
    Redis      ${REDIS_URL}

  Demo logins, password demo12345:
    admin · manager1–2 · supervisor1–4 · rep1–12 · finance1–2 · erp (API only)

BANNER

# Not exec: the EXIT trap must stop the private servers once honcho has stopped its children.
# -e /dev/null: honcho would load .env over the environment, undoing DEBUG=1 and the URLs
# chosen above; the settings still read .env, under the environment.
honcho start --no-colour -e /dev/null -f "$ROOT/Procfile" -p "$PORT"
