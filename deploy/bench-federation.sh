#!/usr/bin/env bash
# Measures federation: replication throughput and catch-up, replication lag, fork detection.
#
#   ./deploy/bench-federation.sh [GAP [RATE]]   default GAP 100000 entries, RATE 1000 events/s
#
# In a fresh temp dir (real keys, registry, SQLite files, gRPC on loopback) it starts a leader
# (log pk-fwo-log) and fills it with GAP events (AppendBatch of 100 from 4 clients), then:
#   1. starts a follower (log us-usm-log following pk-fwo-log) and times its catch-up of the GAP
#      entries, each verified (chain, signature, rulebook, Merkle root) before it is stored,
#      against libsodium's two-core Ed25519 verify rate measured right after (cairn-bench
#      --catch-up);
#   2. appends 10,000 events at 1,000 events/s and prints the lag from each append's answer to
#      the entry's arrival in the follower's replica, p50/p99 (cairn-bench --lag-follower);
#   3. starts a third node following both, then has the leader sign a different history (its
#      database replaced by an empty one, one new event appended with the same log key) and
#      times until both other nodes hold proof of the fork (cairn forks).
# CAIRN_BUILD_DIR (default build) is the CMake build directory; TMPDIR where the files go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gap="${1:-100000}"
rate="${2:-1000}"
[[ $gap =~ ^[1-9][0-9]*$ ]] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build="${CAIRN_BUILD_DIR:-build}"
if [[ ! -x $build/node/cairnd || ! -x $build/client/cairn || ! -x $build/tools/cairn-bench/cairn-bench ]]; then
  ./deploy/install-deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target cairnd cairn cairn-bench
fi
CAIRND="$(cd "$build" && pwd)/node/cairnd"
CAIRN="$(cd "$build" && pwd)/client/cairn"
BENCH="$(cd "$build" && pwd)/tools/cairn-bench/cairn-bench"
PY=/usr/bin/python3
work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-federation.XXXXXX")"
declare -A PID=()
cleanup() {
  local name
  for name in "${!PID[@]}"; do kill -TERM "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
cd "$work"
port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
q() { "$CAIRN" "$@" >/dev/null; }
for who in cairn-registrar pk-fwo us-usm jp-magnets pk-fwo-log us-usm-log jp-magnets-log; do
  q keygen --participant "$who" --out keys
done
q registry init --registry registry.json --consortium cairn-bench --threshold 1
q registry add --registry registry.json --participant cairn-registrar --name Registrar \
  --country CH --roles REGISTRAR --pub keys/cairn-registrar.pub --valid-from 2020-01-01
q registry add --registry registry.json --participant pk-fwo --name "Frontier Works Organisation" \
  --country PK --roles MINE --pub keys/pk-fwo.pub --valid-from 2020-01-01
q registry add --registry registry.json --participant us-usm --name "US Strategic Metals" \
  --country US --roles PROCESSOR --pub keys/us-usm.pub --valid-from 2020-01-01
q registry add --registry registry.json --participant jp-magnets --name "Nippon Magnet Works" \
  --country JP --roles BUYER,PROCESSOR --pub keys/jp-magnets.pub --valid-from 2020-01-01
for pair in pk-fwo us-usm jp-magnets; do
  q registry add-log --registry registry.json --log-id "$pair-log" --operator "$pair" \
    --hosts "$pair" --pub "keys/$pair-log.pub" --valid-from 2020-01-01
done
q registry sign --registry registry.json --key keys/cairn-registrar.key
L="127.0.0.1:$(port)" F="127.0.0.1:$(port)" T="127.0.0.1:$(port)"
config() { # config NAME LISTEN LOG PARTICIPANT [PEER LOG]...
  local name=$1 listen=$2 log=$3 who=$4
  shift 4
  {
    printf 'listen = "%s"\ndb = "%s.db"\nlog_id = "%s"\nnode_key = "keys/%s.key"\n' \
      "$listen" "$name" "$log" "$log"
    printf 'registry = "registry.json"\nparticipants = ["%s"]\nlog_level = "warn"\n' "$who"
    while (($#)); do
      printf '[[peer]]\naddress = "%s"\nlogs = ["%s"]\n' "$1" "$2"
      shift 2
    done
  } >"$name.toml"
}
start() { # start NAME
  "$CAIRND" --config "$1.toml" >"$1.stdout" 2>"$1.log" </dev/null &
  PID[$1]=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q '^cairnd: serving' "$1.stdout" 2>/dev/null && return 0
    sleep 0.05
  done
  cat "$1.log" >&2
  echo "bench: $1 did not start" >&2
  exit 1
}
stop() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}" || true; unset "PID[$1]"; }

config leader "$L" pk-fwo-log pk-fwo
config follower "$F" us-usm-log us-usm "$L" pk-fwo-log
config third "$T" jp-magnets-log jp-magnets "$L" pk-fwo-log "$F" us-usm-log
start leader
echo "== filling the leader with $gap events" >&2
"$BENCH" --node "$L" --key keys/pk-fwo.key --events "$gap" --batch 100 --clients 4 >&2

echo "== 1. catch-up of a $gap-entry gap" >&2
start follower
"$BENCH" --node "$L" --catch-up "$F"

echo "== 2. replication lag at 1,000 events/s" >&2
"$BENCH" --node "$L" --key keys/pk-fwo.key --lag-follower "$F" --rate "$rate" --events $((rate * 10)) \
  --clients 4

echo "== 3. fork detection across three nodes" >&2
start third
size="$("$CAIRN" checkpoint --node "$L" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["size"])')"
for ((i = 0; i < 600; i++)); do
  s="$("$CAIRN" status --node "$T" --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(min([r["size"] for r in d["replicas"] if r["log_id"]=="pk-fwo-log"] or [0]))')"
  ((s >= size)) && break
  sleep 0.1
done
stop leader
rm -f leader.db leader.db-wal leader.db-shm
start leader
"$CAIRN" submit --node "$L" --key keys/pk-fwo.key --sign-only /dev/stdin >fork.signed.json <<'JSON'
{"extraction": {"lot_id": "pk-fwo:FORK-1", "site": {"id": "pk-fwo-chagai-01", "name": "Chagai",
 "country": "PK"}, "material": "REE concentrate", "mass_g": "1000000"}}
JSON
"$CAIRN" submit --node "$L" --signed fork.signed.json >/dev/null
t0="$(date +%s.%N)"
found=""
for ((i = 0; i < 3000; i++)); do
  a="$("$CAIRN" forks --node "$F" --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["forks"]))')"
  b="$("$CAIRN" forks --node "$T" --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["forks"]))')"
  if ((a > 0 && b > 0)); then
    found="$(date +%s.%N)"
    break
  fi
done
[[ -n $found ]] || { echo "bench: the fork was not detected within the wait" >&2; exit 1; }
"$PY" -c "import sys; print('fork detection: both other nodes hold proof of the fork %.2f s after the leader signed the other history (polling cairn forks, ~50 ms per round)' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$found"
