#!/usr/bin/env bash
# Cairn demo: one ledger node on loopback, Pakistan's first rare-earth consignment to the US.
#
#   ./deploy/demo.sh            install missing Debian packages, build cairnd and cairn, run the demo
#   ./deploy/demo.sh --clean    ... and delete the demo's work directory at the end
#   ./deploy/demo.sh --dir DIR  work in DIR (must not exist or be empty) instead of a fresh temp dir
#
# The node hosts three participants: pk-fwo (Frontier Works Organisation, a mine in Pakistan),
# us-usm (US Strategic Metals, a processor in Missouri) and jp-magnets (Nippon Magnet Works, a
# made-up Japanese magnet maker). The demo makes their keys and a signed trust registry, starts
# `cairnd`, submits the consignment (extraction -> dispatch -> receipt -> separation into NdPr
# oxide), shows four refusals a user would meet, verifies the whole log as an auditor would, and
# stops the node. It exits non-zero if anything behaves other than expected, and never leaves a
# process running. The work directory (keys, registry, node database, events) is kept unless
# --clean is given, so you can run `cairn` against it afterwards.
set -euo pipefail

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }

clean=0
work=""
while (($#)); do
  case "$1" in
    --clean) clean=1 ;;
    --dir)
      [[ $# -ge 2 ]] || { echo "demo: --dir needs a directory" >&2; exit 2; }
      work="$2"
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
PY=/usr/bin/python3

# ---------------------------------------------------------------------------------------------
# Output helpers
if [[ -t 1 ]]; then
  B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GRN=$'\e[32m' R=$'\e[0m'
else
  B="" DIM="" RED="" GRN="" R=""
fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$R"; }
say() { printf '%s\n' "$*"; }
ok() { printf '%s  ok: %s%s\n' "$GRN" "$*" "$R"; }
die() {
  printf '%sdemo FAILED: %s%s\n' "$RED" "$*" "$R" >&2
  exit 1
}

# Shell-quotes an argument only when it needs it, so printed commands can be pasted back.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
show_cmd() {
  local line="\$ cairn" a
  for a in "$@"; do line+=" $(quote "$a")"; done
  printf '%s%s%s\n' "$DIM" "$line" "$R"
}
indent() { sed 's/^/    /'; }

# run ARGS...: prints "$ cairn ARGS", runs it, shows its output; the demo stops if it fails.
run() {
  show_cmd "$@"
  local rc=0
  "$CAIRN" "$@" >"$work/.out" 2>"$work/.err" || rc=$?
  indent <"$work/.out"
  indent <"$work/.err"
  ((rc == 0)) || die "cairn $1 exited $rc, expected 0"
}

# run_capture FILE ARGS...: like run, but also keeps stdout in FILE.
run_capture() {
  local file="$1"
  shift
  run "$@"
  cp "$work/.out" "$file"
}

# refuse STATUS ARGS...: runs a command the node must refuse: exit code 1 and STATUS (a gRPC code
# name such as FAILED_PRECONDITION) in the message. Anything else stops the demo.
refuse() {
  local want="$1"
  shift
  show_cmd "$@"
  local rc=0
  "$CAIRN" "$@" >"$work/.out" 2>"$work/.err" || rc=$?
  indent <"$work/.out"
  indent <"$work/.err"
  ((rc != 0)) || die "the node ACCEPTED an event it must refuse (cairn $1 exited 0)"
  ((rc == 1)) || die "cairn $1 exited $rc; a refusal by the node is exit 1"
  grep -q "$want" "$work/.err" || die "expected a $want refusal, got: $(cat "$work/.err")"
  ok "refused with $want (exit 1), nothing written"
}

json_get() { # json_get FILE PYTHON-EXPRESSION-ON-d
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# Size of the log according to the node's signed checkpoint.
log_size() {
  "$CAIRN" checkpoint --node "$NODE" --json >"$work/.size" 2>"$work/.err" ||
    die "cairn checkpoint failed: $(cat "$work/.err")"
  json_get "$work/.size" 'd["size"]'
}

# ---------------------------------------------------------------------------------------------
step "0. Build: install missing Debian packages, then build cairnd (the node) and cairn (the CLI)"
./deploy/install-deps.sh
configure_log="$(mktemp)"
if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$configure_log" 2>&1; then
  cat "$configure_log" >&2
  rm -f "$configure_log"
  die "cmake configure failed (output above)"
fi
rm -f "$configure_log"
cmake --build build -j2 --target cairnd cairn
CAIRND="$repo/build/node/cairnd"
CAIRN="$repo/build/client/cairn"
[[ -x $CAIRND && -x $CAIRN ]] || die "build finished but $CAIRND or $CAIRN is missing"

if [[ -z $work ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")"
else
  mkdir -p "$work"
  [[ -z "$(ls -A "$work")" ]] || die "--dir $work is not empty"
  work="$(cd "$work" && pwd)"
fi

node_pid=""
node_alive() {
  [[ -n $node_pid && -e /proc/$node_pid ]] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$node_pid/status" 2>/dev/null
}
# Stops the node (SIGTERM, then SIGKILL after 15 s) and reaps it. Sets node_status.
node_status=""
stop_node() {
  [[ -n $node_pid ]] || return 0
  kill -TERM "$node_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 150; i++)); do
    node_alive || break
    sleep 0.1
  done
  if node_alive; then
    say "cairnd did not stop within 15 s of SIGTERM; killing it" >&2
    kill -KILL "$node_pid" 2>/dev/null || true
  fi
  node_status=0
  wait "$node_pid" 2>/dev/null || node_status=$?
  node_pid=""
}
on_exit() {
  local rc=$?
  stop_node
  rm -f "$work/.out" "$work/.err" "$work/.size"
  if ((clean)); then
    rm -rf "$work"
  elif ((rc != 0)); then
    printf 'The work directory is kept for inspection: %s (node output: node.stdout, node.log)\n' \
      "$work" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say ""
say "Work directory: $work"
((clean)) && say "(deleted at the end because of --clean)"
mkdir -p "$work/events" "$work/signed"
cp deploy/demo/*.json "$work/events/"
cp -r deploy/demo/docs "$work/docs"
cd "$work"

# ---------------------------------------------------------------------------------------------
step "1. Keys: each participant makes an Ed25519 key pair; the node makes one to sign its log"
say "A key file (.key, mode 0600) stays with its owner; the .pub goes into the trust registry."
say "The key id is the first 16 bytes of SHA-256 of the public key."
for who in cairn-registrar pk-fwo us-usm jp-magnets demo-log; do
  run keygen --participant "$who" --out keys
done
[[ "$(stat -c %a keys/pk-fwo.key)" == 600 ]] || die "keys/pk-fwo.key is not mode 0600"
ok "secret key files are mode 0600"

# ---------------------------------------------------------------------------------------------
step "2. Trust registry: who the participants are, what they may do, which keys speak for them"
say "The consortium's registrar lists each participant with its country and roles, and the key"
say "that signs the node's checkpoints; version 1 takes effect once the registrar signs it."
run registry init --registry registry.json --consortium cairn-demo --threshold 1
run registry add --registry registry.json --participant cairn-registrar \
  --name "Cairn Consortium Registrar" --country CH --roles REGISTRAR --pub keys/cairn-registrar.pub
run registry add --registry registry.json --participant pk-fwo \
  --name "Frontier Works Organisation" --country PK --roles MINE --pub keys/pk-fwo.pub
run registry add --registry registry.json --participant us-usm \
  --name "US Strategic Metals" --country US --roles PROCESSOR --pub keys/us-usm.pub
run registry add --registry registry.json --participant jp-magnets \
  --name "Nippon Magnet Works" --country JP --roles BUYER,PROCESSOR --pub keys/jp-magnets.pub
run registry add-log --registry registry.json --log-id demo-log --operator us-usm \
  --pub keys/demo-log.pub
run registry sign --registry registry.json --key keys/cairn-registrar.key
run registry show --registry registry.json

# ---------------------------------------------------------------------------------------------
step "3. Node: start cairnd on loopback, hosting pk-fwo, us-usm and jp-magnets"
listen="${CAIRN_DEMO_LISTEN:-127.0.0.1:0}"
sed "s/@LISTEN@/$listen/" "$repo/deploy/demo/node.toml.in" >node.toml
indent <node.toml
printf '%s$ cairnd --config node.toml &%s\n' "$DIM" "$R"
"$CAIRND" --config node.toml >node.stdout 2>node.log </dev/null &
node_pid=$!
NODE=""
for ((i = 0; i < 200; i++)); do
  line="$(grep -m1 '^cairnd: serving' node.stdout 2>/dev/null || true)"
  if [[ -n $line ]]; then
    NODE="${line##* }"
    break
  fi
  node_alive || {
    cat node.stdout node.log >&2
    die "cairnd exited during start-up (output above)"
  }
  sleep 0.1
done
[[ -n $NODE ]] || { cat node.log >&2; die "cairnd did not report 'serving' within 20 s"; }
indent <<<"$line"
ok "node pid $node_pid serving on $NODE; every command below passes --node $NODE"

# ---------------------------------------------------------------------------------------------
step "4. Extraction: pk-fwo records 20 t of REE concentrate mined at Chagai, Balochistan"
say "60% TREO; Nd 6.17% and Pr 1.99% of the mass (Nd2O3 7.2% and Pr6O11 2.4%). The assay"
say "certificate is bound to the event by its SHA-256:"
sha256sum docs/assay-CHG-2025-0001.txt | indent
recorded="$(json_get events/01-extraction.json 'd["extraction"]["documents"][0]["sha256"]')"
[[ "$(sha256sum docs/assay-CHG-2025-0001.txt | cut -d' ' -f1)" == "$recorded" ]] ||
  die "the assay certificate's SHA-256 differs from the one in 01-extraction.json"
run submit --node "$NODE" --key keys/pk-fwo.key events/01-extraction.json
run lot pk-fwo:CHG-2025-0001 --node "$NODE"

# ---------------------------------------------------------------------------------------------
step "5. Dispatch: pk-fwo ships the 20 t from Karachi (PKKHI) to us-usm via Houston (USHOU)"
say "Two 20-foot containers (ISO 6346 numbers), bolt seals, export permit, customs declaration,"
say "HS 2530.90. pk-fwo signs the event first (--sign-only) and keeps the signed copy, then sends"
say "exactly those bytes (--signed); step 8 replays the same file."
run_capture signed/02-dispatch.signed.json submit --sign-only --key keys/pk-fwo.key \
  events/02-dispatch.json
run_capture dispatch-result.json submit --node "$NODE" --signed --json \
  signed/02-dispatch.signed.json
DISPATCH_ID="$(json_get dispatch-result.json 'd[0]["event_id"]')"
[[ $DISPATCH_ID =~ ^[0-9a-f]{64}$ ]] || die "no event id in the dispatch result"
ok "dispatch event id $DISPATCH_ID"
say "The 20 t are now in transit, addressed to us-usm:"
run lot pk-fwo:CHG-2025-0001 --node "$NODE"

# ---------------------------------------------------------------------------------------------
step "6. Receipt: us-usm weighs in 19.985 t at its Missouri plant (15 kg lost in transit)"
say "The receipt names the dispatch by its event id, so it is written now:"
cat >events/03-receipt.json <<EOF
{
  "receipt": {
    "dispatch_event_id": "$DISPATCH_ID",
    "lots": [
      { "lot_id": "pk-fwo:CHG-2025-0001", "mass_g": 19985000 }
    ],
    "notes": "2 containers TGHU4821906, TGHU4822076 received at Missouri plant; seals PKC4578812, PKC4578813 intact; weighbridge 19.985 t net, 15 kg short (bag residue)"
  }
}
EOF
indent <events/03-receipt.json
run submit --node "$NODE" --key keys/us-usm.key events/03-receipt.json
run lot pk-fwo:CHG-2025-0001 --node "$NODE"

# ---------------------------------------------------------------------------------------------
step "7. Separation: us-usm turns the concentrate into 1.764 t NdPr oxide and 8.849 t La-Ce oxide"
say "Nd 1,233 kg and Pr 398 kg went in; 1,134 kg Nd and 365 kg Pr come out in the NdPr oxide"
say "(~92% recovery; 75:25 Nd2O3:Pr6O11, i.e. Nd 64.3% and Pr 20.7% of the oxide's mass)."
run submit --node "$NODE" --key keys/us-usm.key events/04-separation.json
run lot us-usm:NDPR-2025-0001 --node "$NODE"

# ---------------------------------------------------------------------------------------------
step "8. Refusals: what the node says no to (each must exit 1 and write nothing)"
size_before="$(log_size)"
say "The log holds $size_before entries."

say ""
say "${B}8a. A dispatch of a lot the sender does not hold:${R} jp-magnets tries to ship 1 t of the"
say "NdPr oxide, which is still in us-usm's warehouse."
refuse FAILED_PRECONDITION submit --node "$NODE" --key keys/jp-magnets.key \
  events/refuse-dispatch-not-held.json

say ""
say "${B}8b. An over-consumption:${R} us-usm claims to reduce 2 t of NdPr oxide into metal, but it"
say "holds only 1.764 t. Custody is kept in whole grams, so no inflation slips through."
refuse FAILED_PRECONDITION submit --node "$NODE" --key keys/us-usm.key \
  events/refuse-over-consumption.json

say ""
say "${B}8c. A forged signature:${R} an extraction signed with pk-fwo's key, then one byte of the"
say "signature altered on its way, as a forger or a corrupted relay would."
run_capture signed/forged.signed.json submit --sign-only --key keys/pk-fwo.key \
  events/refuse-forged-extraction.json
"$PY" - signed/forged.signed.json <<'PYEOF'
import base64, json, sys
path = sys.argv[1]
event = json.load(open(path))
sig = bytearray(base64.b64decode(event["signature"]))
sig[5] ^= 0x01
event["signature"] = base64.b64encode(bytes(sig)).decode()
json.dump(event, open(path, "w"), indent=2)
print("    flipped one bit of signature byte 5 in " + path)
PYEOF
refuse UNAUTHENTICATED submit --node "$NODE" --signed signed/forged.signed.json

say ""
say "${B}8d. A replayed event:${R} the signed dispatch of step 5 is sent again, as if someone hoped"
say "to ship the lot twice. The node answers with the existing entry and appends nothing."
run submit --node "$NODE" --signed signed/02-dispatch.signed.json
grep -q "already in log" "$work/.out" || die "the replayed dispatch was not reported as already in the log"
size_after="$(log_size)"
say "The log holds $size_after entries."
[[ $size_after == "$size_before" ]] || die "the log grew from $size_before to $size_after entries"
ok "log size $size_before before the refusals and the replay, $size_after after"

# ---------------------------------------------------------------------------------------------
step "9. Audit: read the log, trace the NdPr lot, check the signed checkpoint, verify everything"
run log --node "$NODE"
run lot us-usm:NDPR-2025-0001 --node "$NODE"
run get "$DISPATCH_ID" --node "$NODE"
run checkpoint --node "$NODE" --registry registry.json
say "cairn verify trusts nothing the node says: it re-checks every signature against the registry,"
say "every chain link, every custody rule, and the Merkle root against the signed checkpoint."
run verify --log --node "$NODE" --registry registry.json
ok "cairn verify --log passed"
say ""
say "The buyer's question: where did this NdPr oxide come from, and did a restricted source feed it?"
run trace us-usm:NDPR-2025-0001 --node "$NODE"
run verify --lot us-usm:NDPR-2025-0001 --node "$NODE" --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01
ok "lineage verified: 100% Pakistani extraction, compliant with the 2027 defence-magnet policy"
run export us-usm:NDPR-2025-0001 -o ndpr-oxide.bundle --node "$NODE"

# ---------------------------------------------------------------------------------------------
step "10. Stop: SIGTERM the node and check that it exited cleanly"
pid="$node_pid"
printf '%s$ kill -TERM %s%s\n' "$DIM" "$pid" "$R"
stop_node
[[ $node_status == 0 ]] || die "cairnd exited with status $node_status after SIGTERM"
[[ ! -e /proc/$pid ]] || die "cairnd (pid $pid) is still present"
ok "cairnd (pid $pid) exited with status 0; no process left running"

# ---------------------------------------------------------------------------------------------
step "11. Offline: the auditor verifies the exported evidence bundle with no node running"
run verify --bundle ndpr-oxide.bundle --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01
ok "the bundle verifies offline: signatures, inclusion proofs, custody, mass balance, policy"

say ""
if ((clean)); then
  say "${GRN}Demo passed.${R} The work directory is deleted (--clean)."
else
  say "${GRN}Demo passed.${R} Everything is kept in $work:"
  say "  keys/  registry.json  node.toml  node.db  events/  signed/  node.log  ndpr-oxide.bundle"
  say "Restart the node and look around:"
  say "  $CAIRND --config $work/node.toml &"
  say "  $CAIRN log --node <the address it prints>"
fi
