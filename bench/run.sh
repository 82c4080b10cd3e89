#!/usr/bin/env bash
# Order-capture benchmark: the OMS API under gunicorn vs the SQL floor, in one run; then the
# routing benchmark (bench/routing_bench.py) on the same database.
# Usage: make bench   (or: PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres bash bench/run.sh)
# Knobs: CLIENTS DURATION WARMUP WORKERS NSKUS HISTORY_ORDERS BENCH_DB FLOOR_DB FLOOR_DIR REDIS_DB
#        BENCH_PORT MAX_ERROR_RATE E2E_DURATION E2E_PACED_DURATION CELERY_WORKERS
#        CELERY_CONCURRENCY SCALEOUT SCALE_DURATION RELAY_EVENTS HISTORY_BIG HISTORY_RUNS
#        HISTORY_EVENTS_PER_ORDER ROUTING_ORDERS AVAILABILITY_REQUESTS AVAILABILITY_CLIENTS
#        KPI_ORDERS KPI_RUNS MIGRATION_ORDERS FIN_ROWS FIN_DB (0 skips the e2e, scale-out,
#        routing, KPI, history import and finance parts).
#        See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
CORES=$(nproc)
WORKERS=${WORKERS:-$((2 * CORES))}
NSKUS=${NSKUS:-10000}
HISTORY_ORDERS=${HISTORY_ORDERS:-20000}
BENCH_DB=${BENCH_DB:-oms_bench}
FLOOR_DB=${FLOOR_DB:-oms_floor}
# The SQL floor lives in shared/ beside the checkout; a relative FLOOR_DIR is taken from the
# checkout (this script runs from there).
FLOOR_DIR=${FLOOR_DIR:-../shared/bench}
REDIS_DB=${REDIS_DB:-14}
MAX_ERROR_RATE=${MAX_ERROR_RATE:-0.001}
ROUTING_ORDERS=${ROUTING_ORDERS:-300}
AVAILABILITY_REQUESTS=${AVAILABILITY_REQUESTS:-1600}
AVAILABILITY_CLIENTS=${AVAILABILITY_CLIENTS:-8}
E2E_DURATION=${E2E_DURATION:-$DURATION}
E2E_PACED_DURATION=${E2E_PACED_DURATION:-$DURATION}
CELERY_WORKERS=${CELERY_WORKERS:-1}
CELERY_CONCURRENCY=${CELERY_CONCURRENCY:-2}
SCALEOUT=${SCALEOUT:-1}
HISTORY_BIG=${HISTORY_BIG:-1000000}
HISTORY_EVENTS_PER_ORDER=${HISTORY_EVENTS_PER_ORDER:-10}
HISTORY_RUNS=${HISTORY_RUNS:-100}
SCALE_DURATION=${SCALE_DURATION:-8}
RELAY_EVENTS=${RELAY_EVENTS:-20000}
PY=$ROOT/.venv/bin/python
RESULTS=$ROOT/bench/results
GUNICORN_LOG=$RESULTS/gunicorn-error.log

export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export CELERY_BROKER_URL=$REDIS_URL CELERY_TASK_ALWAYS_EAGER=0
export DJANGO_SETTINGS_MODULE=oms.settings
export DJANGO_SECRET_KEY="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DJANGO_DEBUG=0 DB_CONN_MAX_AGE=60
# The bench's one API client posts well over the default allowance (6000/min): at 272 orders/s
# a 23 s load took 397 429s. The throttle still runs on every call; only its limit is the bench's.
export OMS_API_RATE=${OMS_API_RATE:-1000000/min}
# A password-less local PostgreSQL over plain http: allowed explicitly (docs/security.md).
export OMS_ALLOW_INSECURE_DATABASE_PASSWORD=1 OMS_PROFILE=development
export OMS_FIELD_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')"

if [ ! -f "$FLOOR_DIR/run_floor.sh" ]; then
  echo "no run_floor.sh in FLOOR_DIR=$FLOOR_DIR (from $ROOT): set FLOOR_DIR to the SQL floor" >&2
  exit 1
fi

mkdir -p "$RESULTS"
RUN_STARTED=$(date +%s)
TMP=$(mktemp -d)
GUNICORN_PID=""

stop_gunicorn() {
  [ -n "$GUNICORN_PID" ] || return 0
  if kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
  fi
  wait "$GUNICORN_PID" 2>/dev/null || true
  GUNICORN_PID=""
}

FLUSHER_PID=""

stop_flusher() {
  [ -n "$FLUSHER_PID" ] || return 0
  kill -TERM "$FLUSHER_PID" 2>/dev/null || true
  wait "$FLUSHER_PID" 2>/dev/null || true
  FLUSHER_PID=""
}

cleanup() {
  local rc=$?
  stop_gunicorn
  stop_flusher
  redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== setup: database $BENCH_DB, redis db $REDIS_DB, $NSKUS SKUs, $HISTORY_ORDERS history orders"
redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null
dropdb --if-exists --force "$BENCH_DB"
createdb "$BENCH_DB"
"$PY" manage.py migrate --no-input -v 0
"$PY" bench/setup_data.py --key-file "$TMP/api-key" --skus "$NSKUS" \
  --history-orders "$HISTORY_ORDERS"
# Fresh statistics for every table (the history makes the order tables non-empty: see
# setup_data.py for why that matters), and a clean checkpoint, as the floor does.
psql -q -d "$BENCH_DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"
# Beat's merge of the search indexes' pending lists (ADR 0028), for the whole run.
"$PY" bench/search_flusher.py >"$RESULTS/search-flusher.log" 2>&1 &
FLUSHER_PID=$!

PORT=${BENCH_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
: >"$GUNICORN_LOG"
export BENCH_READY_DIR=$TMP/ready

start_gunicorn() {
  echo "== gunicorn: $WORKERS sync workers on 127.0.0.1:$PORT ($CORES cores), log $GUNICORN_LOG"
  rm -rf "$BENCH_READY_DIR"
  mkdir -p "$BENCH_READY_DIR"
  "$ROOT/.venv/bin/gunicorn" oms.wsgi:application -c bench/gunicorn_conf.py \
    --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
    --error-logfile - --log-level warning >>"$GUNICORN_LOG" 2>&1 &
  GUNICORN_PID=$!
  # Ready = /healthz answers 200 and every worker has loaded the app (gunicorn_conf.py).
  for i in $(seq 1 900); do
    if [ "$(find "$BENCH_READY_DIR" -type f | wc -l)" -ge "$WORKERS" ] \
      && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ]; then
      break
    fi
    if ! kill -0 "$GUNICORN_PID" 2>/dev/null; then
      echo "gunicorn exited; its log:" >&2; cat "$GUNICORN_LOG" >&2; exit 1
    fi
    if [ "$i" = 900 ]; then echo "gunicorn not ready (all workers + /healthz 200) in 180 s" >&2; exit 1; fi
    sleep 0.2
  done
}

start_gunicorn

echo "== load: $CLIENTS clients, ${WARMUP}s warm-up + ${DURATION}s measured"
LOAD_RC=0
"$PY" bench/capture_load.py --port "$PORT" --key-file "$TMP/api-key" --clients "$CLIENTS" \
  --duration "$DURATION" --warmup "$WARMUP" --skus "$NSKUS" \
  --max-error-rate "$MAX_ERROR_RATE" --json-out "$TMP/load.json" \
  --records-out "$RESULTS/last-requests.csv" || LOAD_RC=$?
stop_gunicorn
if grep -qE "Traceback|WORKER TIMEOUT|\[(ERROR|CRITICAL)\]" "$GUNICORN_LOG"; then
  echo "gunicorn log has errors or tracebacks: see $GUNICORN_LOG"
fi
DB_ORDERS=$(psql -At -d "$BENCH_DB" -c "SELECT count(*) FROM orders_order WHERE number NOT LIKE 'HIST-%'")
QUEUED=$(redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" LLEN celery)

echo "== SQL floor: $FLOOR_DIR/run_floor.sh main on $FLOOR_DB ($CLIENTS clients, ${DURATION}s)"
psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$FLOOR_DB'" | grep -q 1 \
  || createdb "$FLOOR_DB"
FLOOR_RC=0
(cd "$FLOOR_DIR" && PGDATABASE=$FLOOR_DB REPS=1 CLIENTS=$CLIENTS DURATION=$DURATION \
  NSKUS=$NSKUS LOGDIR="$TMP/floor-logs" bash run_floor.sh main) | tee "$TMP/floor.out" \
  || FLOOR_RC=$?

META=$(printf '{"clients": %s, "duration_s": %s, "warmup_s": %s, "workers": %s, "cores": %s, "nskus": %s, "history_orders": %s, "git": "%s", "load_rc": %s, "floor_rc": %s}' \
  "$CLIENTS" "$DURATION" "$WARMUP" "$WORKERS" "$CORES" "$NSKUS" "$HISTORY_ORDERS" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$LOAD_RC" "$FLOOR_RC")
REPORT_RC=0
"$PY" bench/report.py --load-json "$TMP/load.json" --floor-out "$TMP/floor.out" \
  --jsonl "$RESULTS/capture.jsonl" --db-orders "$DB_ORDERS" --queued-messages "$QUEUED" \
  --meta "$META" || REPORT_RC=$?

# End to end (bench/e2e_bench.py): the same gunicorn, real Celery workers on Redis orchestrating
# every order (bench-dc on the API connector), then its own SQL floor (bench/e2e_floor/). Before
# routing, which deactivates bench-dc. The capture run's queued messages are dropped first: those
# orders are not part of this measurement.
E2E_RC=0
if [ "$E2E_DURATION" != 0 ]; then
  echo
  redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null
  start_gunicorn
  "$PY" bench/e2e_bench.py --port "$PORT" --key-file "$TMP/api-key" --clients "$CLIENTS" \
    --duration "$E2E_DURATION" --paced-duration "$E2E_PACED_DURATION" --warmup "$WARMUP" \
    --skus "$NSKUS" --celery-workers "$CELERY_WORKERS" --concurrency "$CELERY_CONCURRENCY" \
    --floor-db "$FLOOR_DB" --max-error-rate "$MAX_ERROR_RATE" --tmp "$TMP" \
    --worker-log "$RESULTS/celery-worker.log" --jsonl "$RESULTS/e2e.jsonl" \
    --json-out "$TMP/e2e.json" --meta "$META" || E2E_RC=$?
  stop_gunicorn
fi

# Scale-out (bench/README.md, "Scale-out"): capture orders/s with 1, 2 and 4 gunicorn workers,
# end-to-end orders/s with 1 and 2 Celery worker processes, outbox relay events/s with 1 and 2
# relays. Short runs (SCALE_DURATION), before routing deactivates bench-dc. SCALEOUT=0 skips it.
SCALE_RC=0
if [ "$SCALEOUT" != 0 ]; then
  echo
  echo "== scale-out: ${SCALE_DURATION}s per run, $CLIENTS clients"
  SAVED_WORKERS=$WORKERS
  for w in 1 2 4; do
    WORKERS=$w start_gunicorn
    "$PY" bench/capture_load.py --port "$PORT" --key-file "$TMP/api-key" --clients "$CLIENTS" \
      --duration "$SCALE_DURATION" --warmup 2 --skus "$NSKUS" --max-error-rate "$MAX_ERROR_RATE" \
      --json-out "$TMP/scale-web-$w.json" --tag "scale$w" >"$TMP/scale-web-$w.out" || SCALE_RC=$?
    stop_gunicorn
  done
  WORKERS=$SAVED_WORKERS
  start_gunicorn
  for c in 1 2; do
    redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null
    "$PY" bench/e2e_bench.py --port "$PORT" --key-file "$TMP/api-key" --clients "$CLIENTS" \
      --duration "$SCALE_DURATION" --paced-duration 0 --warmup 2 --skus "$NSKUS" \
      --celery-workers "$c" --concurrency 1 --no-floor --max-error-rate "$MAX_ERROR_RATE" \
      --tmp "$TMP" --worker-log "$RESULTS/celery-worker.log" --json-out "$TMP/scale-celery-$c.json" \
      >"$TMP/scale-celery-$c.out" || SCALE_RC=$?
  done
  stop_gunicorn
  "$PY" bench/relay_bench.py --events "$RELAY_EVENTS" --relays 1 2 \
    --json-out "$TMP/scale-relay.json" || SCALE_RC=$?
  redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null
  "$PY" bench/scaleout_table.py --tmp "$TMP" --jsonl "$RESULTS/scaleout.jsonl" --meta "$META" \
    || SCALE_RC=$?
fi

# Routing after the floor, so that the capture load and the floor stay back to back. Same
# database: it adds 200 nodes with stock and deactivates bench-dc (see routing_bench.py).
ROUTING_RC=0
if [ "$ROUTING_ORDERS" != 0 ]; then
  echo
  echo "== routing: 200 nodes, $ROUTING_ORDERS orders per size (1, 3, 10 lines), availability with $AVAILABILITY_CLIENTS clients"
  LOG_MARK=$(wc -l <"$GUNICORN_LOG")
  start_gunicorn  # for the availability part; plan_order and route_order run in-process
  ROUTING_META=$(printf '{"workers": %s, "cores": %s, "nskus": %s, "git": "%s"}' \
    "$WORKERS" "$CORES" "$NSKUS" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
  "$PY" bench/routing_bench.py --orders "$ROUTING_ORDERS" --skus "$NSKUS" --port "$PORT" \
    --key-file "$TMP/api-key" --availability-requests "$AVAILABILITY_REQUESTS" \
    --availability-clients "$AVAILABILITY_CLIENTS" --max-error-rate "$MAX_ERROR_RATE" \
    --jsonl "$RESULTS/routing.jsonl" --meta "$ROUTING_META" || ROUTING_RC=$?
  stop_gunicorn
  if tail -n +"$((LOG_MARK + 1))" "$GUNICORN_LOG" \
    | grep -qE "Traceback|WORKER TIMEOUT|\[(ERROR|CRITICAL)\]"; then
    echo "gunicorn log has errors or tracebacks (routing part): see $GUNICORN_LOG"
  fi
fi

# Flat with history (bench/history_bench.py): capture, route_order, availability, an order's
# trace and the KPI dashboard with this database's history, then again after growing it to
# HISTORY_BIG orders (0: skipped). After routing: it uses the routing network.
HISTORY_RC=0
if [ "$HISTORY_BIG" != 0 ] && [ "$ROUTING_ORDERS" != 0 ]; then
  # The history bench copies this database (CREATE DATABASE ... TEMPLATE), which no other
  # session may be using; its few captures leave the search indexes' lists a few hundred rows.
  stop_flusher
  echo; echo "== history: $HISTORY_ORDERS vs $HISTORY_BIG orders (HISTORY_BIG), database $BENCH_DB"
  "$PY" bench/history_bench.py --key-file "$TMP/api-key" --big "$HISTORY_BIG" \
    --events-per-order "$HISTORY_EVENTS_PER_ORDER" --runs "$HISTORY_RUNS" --skus "$NSKUS" \
    --jsonl "$RESULTS/history.jsonl" --meta "$META" || HISTORY_RC=$?
fi

# KPI queries on generated history, in a database of their own (bench/README.md, "KPI benchmark").
KPI_RC=0
if [ "${KPI_ORDERS:-200000}" != 0 ]; then
  echo; echo "== KPI queries: ${KPI_ORDERS:-200000} orders of history (KPI_ORDERS), database oms_kpibench"
  KPI_ORDERS=${KPI_ORDERS:-200000} "$PY" bench/kpi_bench.py || KPI_RC=$?
fi

# Legacy history import (bench/migration_bench.py): orders/s and peak RSS per size, the slope.
MIGRATION_RC=0
if [ "${MIGRATION_ORDERS:-2000 10000}" != 0 ]; then
  echo; echo "== history import: ${MIGRATION_ORDERS:-2000 10000} orders (MIGRATION_ORDERS), database $BENCH_DB"
  # shellcheck disable=SC2086  # the sizes are separate arguments
  "$PY" bench/migration_bench.py --orders ${MIGRATION_ORDERS:-2000 10000} || MIGRATION_RC=$?
fi

# Finance exports stream: 1M payment rows as CSV and XLSX, peak RSS of each under 200 MB.
FIN_RC=0
if [ "${FIN_ROWS:-1000000}" != 0 ]; then
  FIN_ROWS=${FIN_ROWS:-1000000} "$PY" bench/finance_export_bench.py || FIN_RC=$?
fi

stop_flusher
cat "$RESULTS/search-flusher.log"
"$PY" bench/summary.py --results "$RESULTS" --since "$RUN_STARTED" || true

if [ "$LOAD_RC" != 0 ] || [ "$FLOOR_RC" != 0 ] || [ "$REPORT_RC" != 0 ] || [ "$E2E_RC" != 0 ] || [ "$SCALE_RC" != 0 ] || [ "$HISTORY_RC" != 0 ] || [ "$ROUTING_RC" != 0 ] || [ "$KPI_RC" != 0 ] || [ "$MIGRATION_RC" != 0 ] || [ "$FIN_RC" != 0 ]; then
  echo "bench FAILED (load=$LOAD_RC floor=$FLOOR_RC report=$REPORT_RC e2e=$E2E_RC scaleout=$SCALE_RC history=$HISTORY_RC routing=$ROUTING_RC kpi=$KPI_RC migration=$MIGRATION_RC finance=$FIN_RC)"
  exit 1
fi
