#!/usr/bin/env bash
# bench.sh — the ingest benchmark, hub and reference sink side by side in
# one run on one machine: fleetsim --load with 20 KB reports at 32
# connections against each, then peak RSS of the hub. Prints markdown rows
# for BENCHMARKS.md, and the bytes on disk per stored report.
# Usage: scripts/bench.sh [seconds] [customers] [reports]
# With reports > 0 each target takes exactly that many reports instead of
# running for the given seconds. With BENCH_POSTGRES_DSN set (a postgres://
# URL; the role needs CREATE) the hub runs a third time on PostgreSQL, in a
# schema of its own that is dropped afterwards.
# Then the fleet reads: a fresh hub with BENCH_FLEET_CUSTOMERS customers
# (default 10000; 0 skips), one report each and BENCH_FLEET_EVENTS events
# (default 30000, all in the last 24 h); p50/p99 of `/` and
# `GET /api/v1/customers` idle, then for BENCH_FLEET_SECONDS (default 20)
# while reports are ingested, and the hub's peak RSS (VmHWM) after both.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
customers="${2:-1000}"
reports="${3:-0}"
# BENCH_PORT_BASE moves the four loopback ports (base, +1, +2, +10).
base="${BENCH_PORT_BASE:-18080}"
if [ "$reports" -gt 0 ]; then amount="--requests $reports --duration 0"; else amount="--duration ${secs}s"; fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/hub" ./cmd/hub
go build -o "$work/refsink" ./cmd/refsink
go build -o "$work/fleetsim" ./cmd/fleetsim

wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }
peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

echo "| target | reports/s | p50 | p99 | errors | peak RSS |"
echo "|---|---|---|---|---|---|"

mkdir -p "$work/ref"
"$work/refsink" -listen 127.0.0.1:$((base + 10)) -db "$work/ref/ref.db" 2>/dev/null &
ref=$!
wait_up http://127.0.0.1:$((base + 10))/
out=$(FLEETSIM_KEY=x "$work/fleetsim" --hub http://127.0.0.1:$((base + 10)) --load --customers "$customers" --concurrency 32 $amount | tail -1)
echo "| reference sink | $out | | | | $(( $(peak_rss_kib $ref) / 1024 )) MiB |"
kill $ref; wait $ref 2>/dev/null || true

mkdir -p "$work/hub-data"
admin_key=bench-admin-token-0123456789abcdef0123
HUB_SERVER_LISTEN=127.0.0.1:$base HUB_SERVER_DATA_DIR="$work/hub-data" HUB_LOG_LEVEL=warn HUB_API_ADMIN_API_KEY=$admin_key \
  "$work/hub" serve 2>"$work/hub.log" &
hubpid=$!
wait_up http://127.0.0.1:$base/healthz
out=$(FLEETSIM_KEY=$(cat "$work/hub-data/global-api-key") FLEETSIM_ADMIN_KEY=$admin_key "$work/fleetsim" --hub http://127.0.0.1:$base --load --customers "$customers" --concurrency 32 $amount | tail -1)
echo "| hub | $out | | | | $(( $(peak_rss_kib $hubpid) / 1024 )) MiB |"
stored=$(echo "$out" | awk '{print $1}')
bytes=$(cat "$work/hub-data/hub.db" "$work/hub-data/hub.db-wal" 2>/dev/null | wc -c)
echo
echo "bytes on disk per stored report: $(( bytes / stored )) ($bytes bytes for $stored reports, $customers customers; bodies zstd per body, before the background delta compaction)"
kill $hubpid; wait $hubpid 2>/dev/null || true

if [ -n "${BENCH_POSTGRES_DSN:-}" ]; then
  schema="bench_$$"
  psql -q "$BENCH_POSTGRES_DSN" -c "CREATE SCHEMA $schema"
  trap 'kill $(jobs -p) 2>/dev/null || true; psql -q "$BENCH_POSTGRES_DSN" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE"; rm -rf "$work"' EXIT
  case "$BENCH_POSTGRES_DSN" in *\?*) dsn="$BENCH_POSTGRES_DSN&search_path=$schema" ;; *) dsn="$BENCH_POSTGRES_DSN?search_path=$schema" ;; esac
  mkdir -p "$work/hub-pg"
  HUB_SERVER_LISTEN=127.0.0.1:$((base + 1)) HUB_SERVER_DATA_DIR="$work/hub-pg" HUB_LOG_LEVEL=warn HUB_DATABASE_DSN="$dsn" HUB_API_REPORT_API_KEY=bench-global-key-0123456789abcdef HUB_API_ADMIN_API_KEY=$admin_key \
    "$work/hub" serve 2>"$work/hub-pg.log" &
  pgpid=$!
  wait_up http://127.0.0.1:$((base + 1))/healthz
  out=$(FLEETSIM_KEY=bench-global-key-0123456789abcdef FLEETSIM_ADMIN_KEY=$admin_key "$work/fleetsim" --hub http://127.0.0.1:$((base + 1)) --load --customers "$customers" --concurrency 32 $amount | tail -1)
  echo "| hub on PostgreSQL | $out | | | | $(( $(peak_rss_kib $pgpid) / 1024 )) MiB (hub only) |"
  bytes=$(psql -qAt "$BENCH_POSTGRES_DSN" -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema' AND c.relkind IN ('r', 'm')")
  stored=$(echo "$out" | awk '{print $1}')
  echo "PostgreSQL bytes per stored report: $(( bytes / stored )) ($bytes bytes, tables with their indexes and TOAST)"
  kill $pgpid; wait $pgpid 2>/dev/null || true
fi

fleet_customers="${BENCH_FLEET_CUSTOMERS:-10000}"
if [ "$fleet_customers" -gt 0 ]; then
  mkdir -p "$work/hub-fleet"
  HUB_SERVER_LISTEN=127.0.0.1:$((base + 2)) HUB_SERVER_DATA_DIR="$work/hub-fleet" HUB_LOG_LEVEL=warn HUB_API_ADMIN_API_KEY=$admin_key \
    "$work/hub" serve 2>"$work/hub-fleet.log" &
  fleetpid=$!
  wait_up http://127.0.0.1:$((base + 2))/healthz
  echo
  echo "fleet reads, $fleet_customers customers, ${BENCH_FLEET_EVENTS:-30000} events in the last 24 h:"
  FLEETSIM_KEY=$(cat "$work/hub-fleet/global-api-key") FLEETSIM_ADMIN_KEY=$admin_key "$work/fleetsim" --hub http://127.0.0.1:$((base + 2)) --fleet-read \
    --customers "$fleet_customers" --events "${BENCH_FLEET_EVENTS:-30000}" --concurrency 32 \
    --duration "${BENCH_FLEET_SECONDS:-20}s" >"$work/fleet.txt" 2>&1 || { tail -5 "$work/fleet.txt"; exit 1; }
  grep -E '^(idle|during ingest|ingest meanwhile):' "$work/fleet.txt"
  echo "hub peak RSS (VmHWM) after the fleet reads: $(( $(peak_rss_kib $fleetpid) / 1024 )) MiB"
  kill $fleetpid; wait $fleetpid 2>/dev/null || true
fi
