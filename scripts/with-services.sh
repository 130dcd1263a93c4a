#!/usr/bin/env bash
# Run one command with DATABASE_URL and REDIS_URL pointing at a live Postgres and Redis (see
# services.sh), then stop the private servers it had to start: `make migrate`, `make seed`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

trap services_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
services_up
"$@"
