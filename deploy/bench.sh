#!/usr/bin/env bash
# Measures the append path: builds cairnd and cairn, starts a fresh node on loopback in a temp dir
# (real SQLite file, WAL + synchronous=FULL, every signature verified), and runs `cairn bench`
# with 1 and 8 concurrent clients (single Append calls) and with AppendBatch of 100 events,
# printing events/s and latency percentiles next to libsodium's one-core verify rate.
#
#   ./deploy/bench.sh [EVENTS]      default 20000 events per run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
events=${1:-20000}

./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target cairnd cairn >/dev/null
cairn=$PWD/build/client/cairn
cairnd=$PWD/build/node/cairnd

work=$(mktemp -d /tmp/cairn-bench.XXXXXX)
node_pid=""
cleanup() {
  if [[ -n $node_pid ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" && wait "$node_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
cd "$work"

for id in cairn-registrar au-lynas bench-log; do "$cairn" keygen --participant "$id" --out keys >/dev/null; done
"$cairn" registry init --registry registry.json --consortium cairn-bench --threshold 1 >/dev/null
"$cairn" registry add --registry registry.json --participant cairn-registrar --name "Registrar" \
  --country CH --roles REGISTRAR --pub keys/cairn-registrar.pub --valid-from 2020-01-01 >/dev/null
"$cairn" registry add --registry registry.json --participant au-lynas --name "Mt Weld mine" \
  --country AU --roles MINE --pub keys/au-lynas.pub --valid-from 2020-01-01 >/dev/null
"$cairn" registry add-log --registry registry.json --log-id bench-log --operator au-lynas \
  --pub keys/bench-log.pub >/dev/null
"$cairn" registry sign --registry registry.json --key keys/cairn-registrar.key >/dev/null

run_node() {
  rm -f node.db node.db-wal node.db-shm
  cat >node.toml <<TOML
listen = "127.0.0.1:0"
db = "node.db"
log_id = "bench-log"
node_key = "keys/bench-log.key"
registry = "registry.json"
participants = ["au-lynas"]
log_level = "warn"
TOML
  "$cairnd" --config node.toml >node.out 2>node.err &
  node_pid=$!
  for _ in $(seq 200); do
    grep -q "serving" node.out 2>/dev/null && break
    sleep 0.05
  done
  addr=$(grep -o 'on [0-9.:]*$' node.out | cut -d' ' -f2)
}

stop_node() {
  kill -TERM "$node_pid" && wait "$node_pid" || true
  node_pid=""
}

echo "cairn bench: $events events per run, fresh node each run, $(nproc) cores shared by node and load"
for spec in "1 1" "8 1" "16 1" "4 100"; do
  read -r clients batch <<<"$spec"
  run_node
  "$cairn" bench --node "$addr" --key keys/au-lynas.key --clients "$clients" --events "$events" \
    --batch "$batch" --baseline
  echo "  disk: $(du -cb node.db* | tail -1 | cut -f1) bytes for $events events"
  stop_node
done
