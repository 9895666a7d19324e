#!/usr/bin/env bash
# Fuzz the running API with schemathesis against its own OpenAPI schema (PostgreSQL pass of CI):
# no 5xx, and every response conforms to the schema. Bounded: few examples per operation, a timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
BASE="${CI_SCHEMATHESIS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crm_ci_schemathesis}"
DBNAME="${BASE##*/}"
ADMIN_URL="${BASE%/*}/postgres"
PORT="${SCHEMATHESIS_PORT:-8765}"

$BIN/python - "$ADMIN_URL" "$DBNAME" <<'PY'
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1]); conn.autocommit = True
with conn.cursor() as cur:
    cur.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
    cur.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY
export DATABASE_URL="$BASE" API_THROTTLE_RATE=1000000/hour API_THROTTLE_RATE_ANON=1000000/hour DEBUG=false
export ALLOWED_HOSTS=127.0.0.1,localhost
# A broker and no worker, as in production: side effects are queued, never sent from inside a
# request. (Without a broker, tasks run inline: every fuzzed webhook subscription would make the
# requests that follow wait for DNS and HTTP timeouts of made-up hosts.) Its own Redis database,
# emptied before and after.
export REDIS_URL="${CI_SCHEMATHESIS_REDIS_URL:-redis://127.0.0.1:6379/11}"
flush_redis() { $BIN/python -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()'; }
flush_redis
$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py seed_demo >/dev/null
TOKEN=$($BIN/python manage.py create_api_token admin --name schemathesis 2>/dev/null)

$BIN/gunicorn crm.wsgi:application --bind "127.0.0.1:$PORT" --workers 3 --timeout 120 --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; flush_redis' EXIT
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/" && break; sleep 0.2; done

# A new random seed each run, so every CI run explores inputs the previous ones did not; the seed is
# printed first, so a failure can be replayed exactly: SCHEMATHESIS_SEED=<seed> .ci/schemathesis.sh
SEED="${SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "schemathesis seed: $SEED (replay with SCHEMATHESIS_SEED=$SEED .ci/schemathesis.sh)"
SEED_ARGS=(--seed "$SEED")

timeout "${SCHEMATHESIS_TIMEOUT:-300}" $BIN/st run "http://127.0.0.1:$PORT/api/v1/schema/" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-8}" \
  --phases examples,fuzzing \
  --request-timeout 60 \
  --report har --report-har-path test-artifacts/schemathesis.har \
  "${SEED_ARGS[@]}" \
  --no-color
