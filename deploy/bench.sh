#!/usr/bin/env bash
# Measures the append path: builds cairnd and cairn, starts a fresh node on loopback in a temp dir
# (real SQLite file, WAL + synchronous=FULL, every signature verified), and runs `cairn-bench`
# with 1, 8 and 16 concurrent clients (single Append calls) and with AppendBatch of 100 events,
# printing events/s, latency percentiles, the node's and the load generator's CPU time per event
# and the node's RSS next to libsodium's one-core verify rate.
#
# With --rounds R each row is R timed runs on its node, each against the verify rate measured
# around it, and ends with their median (this VM's speed drifts by a quarter within minutes).
#
# With --preload N (large-log mode) it instead fills one fresh node with N events (AppendBatch of
# 100 from 4 clients, progress on stderr), then measures on that full log: AppendBatch-of-100
# throughput, single-client single-Append latency, GetInclusionProof round trips for random
# leaves, node RSS, disk bytes per event (database + WAL) and the time a restart takes to serve,
# after a clean stop and after kill -9.
#
# With --lineage STEPS (lineage mode) it starts a fresh node hosting a mine (pk-fwo) and a
# processor (us-usm), appends a STEPS-step chain (2 x STEPS lots on the last product's lineage,
# 4 x STEPS events) and times Ledger.Trace of the last product and the offline VerifyLineage of
# the bundle (`cairn-bench --lineage`); 5000 steps = a 10,000-lot lineage.
#
#   ./deploy/bench.sh [--rounds R] [EVENTS]     default 20000 events per run, 1 round per row
#   ./deploy/bench.sh --preload 1000000 [EVENTS]
#   ./deploy/bench.sh --lineage 5000
#
# CAIRN_BUILD_DIR (default build) is the CMake build directory to use; TMPDIR where the node's
# database goes (default /tmp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
preload=0
lineage=0
rounds=1
events=""
while (($#)); do
  case $1 in
    --lineage)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
      lineage=$2
      shift 2
      ;;
    --rounds)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
      rounds=$2
      shift 2
      ;;
    --preload)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      preload=$2
      shift 2
      ;;
    -h | --help) usage ;;
    *)
      [[ $1 =~ ^[0-9]+$ && -z $events ]] || usage
      events=$1
      shift
      ;;
  esac
done
events=${events:-20000}

build=${CAIRN_BUILD_DIR:-build}
./deploy/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target cairnd cairn cairn-bench >/dev/null
cairn=$(realpath "$build")/client/cairn
cairnd=$(realpath "$build")/node/cairnd
bench_bin=$(realpath "$build")/tools/cairn-bench/cairn-bench

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
node_pid=""
cleanup() {
  if [[ -n $node_pid ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" && wait "$node_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
cd "$work"

for id in cairn-registrar au-lynas pk-fwo us-usm bench-log; do "$cairn" keygen --participant "$id" --out keys >/dev/null; done
"$cairn" registry init --registry registry.json --consortium cairn-bench --threshold 1 >/dev/null
"$cairn" registry add --registry registry.json --participant cairn-registrar --name "Registrar" \
  --country CH --roles REGISTRAR --pub keys/cairn-registrar.pub --valid-from 2020-01-01 >/dev/null
"$cairn" registry add --registry registry.json --participant au-lynas --name "Mt Weld mine" \
  --country AU --roles MINE --pub keys/au-lynas.pub --valid-from 2020-01-01 >/dev/null
"$cairn" registry add --registry registry.json --participant pk-fwo \
  --name "Frontier Works Organisation" --country PK --roles MINE --pub keys/pk-fwo.pub \
  --valid-from 2020-01-01 >/dev/null
"$cairn" registry add --registry registry.json --participant us-usm --name "US Strategic Metals" \
  --country US --roles PROCESSOR --pub keys/us-usm.pub --valid-from 2020-01-01 >/dev/null
"$cairn" registry add-log --registry registry.json --log-id bench-log --operator au-lynas \
  --pub keys/bench-log.pub >/dev/null
"$cairn" registry sign --registry registry.json --key keys/cairn-registrar.key >/dev/null

# Lineage mode: a mine and a processor on one node; otherwise the one mine.
hosted='["au-lynas"]'
if ((lineage > 0)); then hosted='["pk-fwo", "us-usm"]'; fi
cat >node.toml <<TOML
listen = "127.0.0.1:0"
db = "node.db"
log_id = "bench-log"
node_key = "keys/bench-log.key"
registry = "registry.json"
participants = $hosted
log_level = "warn"
TOML

# Starts cairnd on node.db (kept as it is) and waits until it serves; sets node_pid and addr.
start_node() {
  : >node.out
  "$cairnd" --config node.toml >node.out 2>node.err &
  node_pid=$!
  until grep -q "serving" node.out 2>/dev/null; do
    if ! kill -0 "$node_pid" 2>/dev/null; then
      echo "bench: cairnd exited: $(tail -3 node.err)" >&2
      exit 1
    fi
    sleep 0.05
  done
  addr=$(grep -o 'on [0-9.:]*$' node.out | cut -d' ' -f2)
}

run_node() {
  rm -f node.db node.db-wal node.db-shm node.db.clean-stop
  start_node
}

stop_node() {
  kill -TERM "$node_pid" && wait "$node_pid" || true
  node_pid=""
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$node_pid/status"; }
peak_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$node_pid/status"; }
log_size() { "$cairn" checkpoint --node "$addr" --json | grep -o '"size": *[0-9]*' | grep -o '[0-9]*$'; }
# The WAL is a bounded buffer (reused after each checkpoint of 10,000 pages, about 41 MB): the
# database file alone is what grows per event.
disk_line() {
  local size db wal n
  size=$(log_size)
  db=$(stat -c %s node.db)
  wal=$(stat -c %s node.db-wal 2>/dev/null || echo 0)
  n=$((size > 0 ? size : 1))
  echo "  disk: database $db bytes + WAL $wal bytes for $size entries: $((db / n)) bytes per event in the database, $(((db + wal) / n)) with the WAL"
}

bench() {
  "$bench_bin" --node "$addr" --key keys/au-lynas.key --node-pid "$node_pid" "$@"
}

if ((lineage > 0)); then
  echo "cairn-bench: lineage of $lineage steps ($((2 * lineage)) lots), fresh node, $(nproc) cores shared by node and client; load $(cut -d' ' -f1-3 /proc/loadavg)"
  run_node
  status=0
  "$bench_bin" --node "$addr" --key keys/pk-fwo.key --processor-key keys/us-usm.key \
    --registry registry.json --lineage "$lineage" --baseline --timeout 120 || status=$?
  echo "node RSS $(rss_mib) MiB"
  disk_line
  stop_node
  exit "$status"
fi

if ((preload == 0)); then
  echo "cairn-bench: $events events per run, fresh node each run, $(nproc) cores shared by node and load"
  for spec in "1 1" "8 1" "16 1" "4 100"; do
    read -r clients batch <<<"$spec"
    run_node
    bench --clients "$clients" --events "$events" --batch "$batch" --rounds "$rounds" --baseline
    disk_line
    stop_node
  done
  exit 0
fi

echo "cairn-bench: large log of $preload events, then $events events per run on it, $(nproc) cores shared by node and load"
run_node
chunk=50000
done_events=0
start=$SECONDS
while ((done_events < preload)); do
  n=$((preload - done_events < chunk ? preload - done_events : chunk))
  bench --clients 4 --batch 100 --events "$n" >/dev/null
  done_events=$((done_events + n))
  elapsed=$((SECONDS - start))
  echo "preload: $done_events/$preload events in ${elapsed} s ($((done_events / (elapsed > 0 ? elapsed : 1))) events/s)" >&2
done
echo "after preload: node RSS $(rss_mib) MiB"
disk_line

echo "AppendBatch of 100, 4 clients, on the full log:"
bench --clients 4 --batch 100 --events "$events" --baseline
single=$((events / 10 > 1000 ? events / 10 : 1000))
echo "single Append, 1 client, on the full log:"
bench --clients 1 --batch 1 --events "$single"
echo "inclusion proofs on the full log:"
bench --events 0 --proofs 2000
echo "node RSS $(rss_mib) MiB"
disk_line

# A clean stop (SIGTERM) leaves the node's signed clean-stop record: the next start checks the
# entry count, the signed checkpoint and the stored tree. After kill -9 it reads every entry.
stop_node
t0=$(date +%s%N)
start_node
restart_ms=$((($(date +%s%N) - t0) / 1000000))
echo "restart after a clean stop: serving $(log_size) entries ${restart_ms} ms after start; node RSS $(rss_mib) MiB, peak $(peak_mib) MiB"
kill -KILL "$node_pid" && wait "$node_pid" || true
t0=$(date +%s%N)
start_node
restart_ms=$((($(date +%s%N) - t0) / 1000000))
echo "restart after kill -9 (full start-up check): serving $(log_size) entries ${restart_ms} ms after start; node RSS $(rss_mib) MiB, peak $(peak_mib) MiB"
stop_node
