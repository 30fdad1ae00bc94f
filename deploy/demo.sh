#!/usr/bin/env bash
# Cairn demo: a federation of three ledger nodes on loopback, one per organisation, carrying
# Pakistan's first rare-earth consignment from a mine to a US refiner to a Japanese magnet maker.
#
#   ./deploy/demo.sh            install missing Debian packages, build cairnd and cairn, run the demo
#   ./deploy/demo.sh --clean    ... and delete the demo's work directory at the end
#   ./deploy/demo.sh --dir DIR  work in DIR (must not exist or be empty) instead of a fresh temp dir
#
# Three nodes, each run by its organisation and hosting only its own participant: the mine's
# (pk-fwo, Frontier Works Organisation, Pakistan; log pk-fwo-log), the refiner's (us-usm, US
# Strategic Metals, Missouri; log us-usm-log) and the buyer's (jp-magnets, Nippon Magnet Works, a
# made-up Japanese magnet maker; log jp-magnets-log). Each follows and verifies the other two logs
# over mutual TLS with certificates of a consortium CA the demo makes with openssl. The demo makes
# the keys and the signed trust registry, starts the nodes, runs the consignment across them
# (extraction on the mine's node; receipt and separation on the refiner's; magnet production on
# the buyer's), shows what the nodes refuse, stops the refiner's node mid-way while the others
# carry on, restarts it and shows it catch up, and ends with an auditor verifying the magnet lot
# against the buyer's node alone, printing its origin shares, then offline from the exported
# bundle, and writing the magnet lot's HTML compliance report and its EPCIS 2.0 export (their
# paths are printed). It exits non-zero if anything
# behaves other than expected, and never leaves a process running, also on Ctrl-C or failure.
# CAIRN_BIN_DIR=DIR uses cairnd and cairn from DIR (DIR/node, DIR/client) instead of building.
set -euo pipefail

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }

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

# log_size NODE: the size of the node's own log by its signed checkpoint.
log_size() {
  "$CAIRN" checkpoint --node "$1" --json >"$work/.size" 2>"$work/.err" ||
    die "cairn checkpoint failed: $(cat "$work/.err")"
  json_get "$work/.size" 'd["size"]'
}

# wait_replica NODE LOG SIZE: waits (up to 30 s) until NODE holds SIZE entries of LOG's replica.
wait_replica() {
  local i
  for ((i = 0; i < 300; i++)); do
    if "$CAIRN" status --node "$1" --json >"$work/.status" 2>/dev/null &&
      [[ "$(json_get "$work/.status" "next((r['size'] for r in d['replicas'] if r['log_id'] == '$2'), 0)")" -ge $3 ]]; then
      return 0
    fi
    sleep 0.1
  done
  die "node $1 did not replicate $3 entries of $2 within 30 s"
}

# ---------------------------------------------------------------------------------------------
if [[ -n ${CAIRN_BIN_DIR:-} ]]; then
  CAIRND="$CAIRN_BIN_DIR/node/cairnd"
  CAIRN="$CAIRN_BIN_DIR/client/cairn"
else
  step "0. Build: install missing Debian packages, then build cairnd (the node) and cairn (the CLI)"
  ./deploy/install-deps.sh
  configure_log="$(mktemp)"
  if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >"$configure_log" 2>&1; then
    cat "$configure_log" >&2
    rm -f "$configure_log"
    die "cmake configure failed (output above)"
  fi
  rm -f "$configure_log"
  cmake --build build -j2 --target cairnd cairn
  CAIRND="$repo/build/node/cairnd"
  CAIRN="$repo/build/client/cairn"
fi
[[ -x $CAIRND && -x $CAIRN ]] || die "$CAIRND or $CAIRN is missing"
command -v openssl >/dev/null || die "openssl is missing (./deploy/install-deps.sh installs it)"

if [[ -z $work ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")"
else
  mkdir -p "$work"
  [[ -z "$(ls -A "$work")" ]] || die "--dir $work is not empty"
  work="$(cd "$work" && pwd)"
fi
# The auditor's remembered checkpoints (cairn checkpoint, prove, verify) stay in the work directory.
export XDG_STATE_HOME="$work/cli-state"

# The three nodes: name -> pid and address.
NAMES=(mine refiner buyer)
declare -A PID=() ADDR=()
alive() { # alive NAME
  local pid="${PID[$1]:-}"
  [[ -n $pid && -e /proc/$pid ]] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}
# stop_node NAME: SIGTERM, then SIGKILL after 15 s; reaps it and sets node_status.
node_status=""
stop_node() {
  local pid="${PID[$1]:-}" i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    alive "$1" || break
    sleep 0.1
  done
  if alive "$1"; then
    say "cairnd ($1) did not stop within 15 s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  node_status=0
  wait "$pid" 2>/dev/null || node_status=$?
  PID[$1]=""
}
# start_node NAME: starts cairnd with NAME.toml and waits for its "serving" line.
start_node() {
  local name="$1" i line=""
  printf '%s$ cairnd --config %s.toml &%s\n' "$DIM" "$name" "$R"
  "$CAIRND" --config "$name.toml" >>"$name.stdout" 2>>"$name.log" </dev/null &
  PID[$name]=$!
  for ((i = 0; i < 200; i++)); do
    line="$(grep '^cairnd: serving' "$name.stdout" 2>/dev/null | tail -n1 || true)"
    [[ $(grep -c '^cairnd: serving' "$name.stdout" 2>/dev/null || true) -gt ${STARTS[$name]:-0} ]] && break
    alive "$name" || {
      cat "$name.stdout" "$name.log" >&2
      die "cairnd ($name) exited during start-up (output above)"
    }
    sleep 0.1
  done
  [[ $(grep -c '^cairnd: serving' "$name.stdout" 2>/dev/null || true) -gt ${STARTS[$name]:-0} ]] ||
    { cat "$name.log" >&2; die "cairnd ($name) did not report 'serving' within 20 s"; }
  STARTS[$name]=$((${STARTS[$name]:-0} + 1))
  indent <<<"$line"
}
declare -A STARTS=()
on_exit() {
  local rc=$? name
  for name in "${NAMES[@]}"; do stop_node "$name"; done
  rm -f "$work/.out" "$work/.err" "$work/.size" "$work/.status"
  if ((clean)); then
    rm -rf "$work"
  elif ((rc != 0)); then
    printf 'The work directory is kept for inspection: %s (node output: *.stdout, *.log)\n' \
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
mkdir -p "$work/events" "$work/signed" "$work/tls" "$work/mine" "$work/refiner" "$work/buyer"
cp deploy/demo/*.json "$work/events/"
cp -r deploy/demo/docs "$work/docs"
cd "$work"

# ---------------------------------------------------------------------------------------------
step "1. Keys: each participant makes an Ed25519 key pair; each node makes one to sign its log"
say "A key file (.key, mode 0600) stays with its owner; the .pub goes into the trust registry."
for who in cairn-registrar pk-fwo us-usm jp-magnets pk-fwo-log us-usm-log jp-magnets-log; do
  run keygen --participant "$who" --out keys
done
[[ "$(stat -c %a keys/pk-fwo.key)" == 600 ]] || die "keys/pk-fwo.key is not mode 0600"
ok "secret key files are mode 0600"

# ---------------------------------------------------------------------------------------------
step "2. Trust registry: the participants, their keys, and the three logs with their hosts"
say "Each organisation runs its own node and log; the registry names each log's checkpoint key"
say "and the participants whose home log it is. A node appends its own participants' events only;"
say "everything else reaches it by replication, verified entry by entry."
run registry init --registry registry.json --consortium cairn-demo --threshold 1
run registry add --registry registry.json --participant cairn-registrar \
  --name "Cairn Consortium Registrar" --country CH --roles REGISTRAR --pub keys/cairn-registrar.pub
run registry add --registry registry.json --participant pk-fwo \
  --name "Frontier Works Organisation" --country PK --roles MINE --pub keys/pk-fwo.pub
run registry add --registry registry.json --participant us-usm \
  --name "US Strategic Metals" --country US --roles PROCESSOR --pub keys/us-usm.pub
run registry add --registry registry.json --participant jp-magnets \
  --name "Nippon Magnet Works" --country JP --roles BUYER,PROCESSOR --pub keys/jp-magnets.pub
run registry add-log --registry registry.json --log-id pk-fwo-log --operator pk-fwo \
  --hosts pk-fwo --pub keys/pk-fwo-log.pub
run registry add-log --registry registry.json --log-id us-usm-log --operator us-usm \
  --hosts us-usm --pub keys/us-usm-log.pub
run registry add-log --registry registry.json --log-id jp-magnets-log --operator jp-magnets \
  --hosts jp-magnets --pub keys/jp-magnets-log.pub
run registry sign --registry registry.json --key keys/cairn-registrar.key
run registry show --registry registry.json

# ---------------------------------------------------------------------------------------------
step "3. TLS: a consortium CA certifies each node and the auditor (EC P-256, openssl)"
ossl() { openssl "$@" 2>>tls/openssl.log || die "openssl $1 failed: $(tail -n3 tls/openssl.log)"; }
ossl ecparam -name prime256v1 -genkey -noout -out tls/ca.key
ossl req -x509 -new -key tls/ca.key -subj "/CN=cairn-demo consortium CA" -days 30 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out tls/ca.crt
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  >tls/leaf.ext
for who in mine refiner buyer auditor; do
  ossl ecparam -name prime256v1 -genkey -noout -out "tls/$who.key"
  ossl req -new -key "tls/$who.key" -subj "/CN=cairn-demo $who" -out "tls/$who.csr"
  ossl x509 -req -in "tls/$who.csr" -CA tls/ca.crt -CAkey tls/ca.key -CAcreateserial -days 30 \
    -extfile tls/leaf.ext -out "tls/$who.crt"
  chmod 600 "tls/$who.key"
done
openssl x509 -in tls/mine.crt -noout -subject -issuer -ext subjectAltName | indent
ok "tls/ca.crt, and a certificate and key for mine, refiner, buyer and auditor"
say "Every cairn command below connects with the auditor's certificate (the nodes require one):"
export CAIRN_CA="$work/tls/ca.crt" CAIRN_CERT="$work/tls/auditor.crt" CAIRN_KEY="$work/tls/auditor.key"
printf '%s$ export CAIRN_CA=tls/ca.crt CAIRN_CERT=tls/auditor.crt CAIRN_KEY=tls/auditor.key%s\n' \
  "$DIM" "$R"

# ---------------------------------------------------------------------------------------------
step "4. Nodes: start the mine's, the refiner's and the buyer's cairnd on loopback"
if [[ -n ${CAIRN_DEMO_PORTS:-} ]]; then
  IFS=, read -r -a ports <<<"$CAIRN_DEMO_PORTS"
else
  mapfile -t ports < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
for s in socks: print(s.getsockname()[1])')
fi
((${#ports[@]} == 3)) || die "CAIRN_DEMO_PORTS needs three ports, e.g. 7401,7402,7403"
ADDR[mine]="127.0.0.1:${ports[0]}" ADDR[refiner]="127.0.0.1:${ports[1]}" ADDR[buyer]="127.0.0.1:${ports[2]}"
MINE="${ADDR[mine]}" REFINER="${ADDR[refiner]}" BUYER="${ADDR[buyer]}"
for name in "${NAMES[@]}"; do
  sed -e "s/@MINE@/$MINE/" -e "s/@REFINER@/$REFINER/" -e "s/@BUYER@/$BUYER/" \
    "$repo/deploy/demo/$name.toml.in" >"$name.toml"
done
say "The refiner's configuration (the others differ in names and peers):"
indent <refiner.toml
for name in "${NAMES[@]}"; do start_node "$name"; done
ok "three nodes: mine $MINE, refiner $REFINER, buyer $BUYER"
say "A client without a consortium certificate is turned away:"
show_cmd status --node "$MINE" "(without CAIRN_CERT/CAIRN_KEY)"
rc=0
env -u CAIRN_CERT -u CAIRN_KEY "$CAIRN" status --node "$MINE" >"$work/.out" 2>"$work/.err" || rc=$?
indent <"$work/.err"
((rc != 0)) || die "the mine's node answered a client without a certificate"
ok "refused (exit $rc): mutual TLS"

# ---------------------------------------------------------------------------------------------
step "5. Extraction, on the mine's node: pk-fwo records 20 t of REE concentrate from Chagai"
say "60% TREO; Nd 6.17% and Pr 1.99% of the mass. The assay certificate is bound by its SHA-256:"
sha256sum docs/assay-CHG-2025-0001.txt | indent
recorded="$(json_get events/01-extraction.json 'd["extraction"]["documents"][0]["sha256"]')"
[[ "$(sha256sum docs/assay-CHG-2025-0001.txt | cut -d' ' -f1)" == "$recorded" ]] ||
  die "the assay certificate's SHA-256 differs from the one in 01-extraction.json"
run submit --node "$MINE" --key keys/pk-fwo.key events/01-extraction.json

# ---------------------------------------------------------------------------------------------
step "6. Dispatch, on the mine's node: 20 t from Karachi (PKKHI) to us-usm via Houston (USHOU)"
say "pk-fwo signs the event first (--sign-only) and keeps the signed copy, then sends exactly those"
say "bytes (--signed); step 8 replays the same file."
run_capture signed/02-dispatch.signed.json submit --sign-only --key keys/pk-fwo.key \
  events/02-dispatch.json
run_capture dispatch-result.json submit --node "$MINE" --signed --json \
  signed/02-dispatch.signed.json
DISPATCH_ID="$(json_get dispatch-result.json 'd[0]["event_id"]')"
[[ $DISPATCH_ID =~ ^[0-9a-f]{64}$ ]] || die "no event id in the dispatch result"
ok "dispatch event id $DISPATCH_ID"

# ---------------------------------------------------------------------------------------------
step "7. Receipt and separation, on the refiner's node"
say "The receipt answers the dispatch on the mine's log; the refiner's node has replicated and"
say "verified it (had it not yet, the append would wait for it, up to replication_wait_ms)."
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
run submit --node "$REFINER" --key keys/us-usm.key events/03-receipt.json
say "Separation into 1.764 t NdPr oxide and 8.849 t La-Ce oxide (Nd 1,233 kg and Pr 398 kg in;"
say "1,134 kg Nd and 365 kg Pr out in the oxide, ~92% recovery):"
run submit --node "$REFINER" --key keys/us-usm.key events/04-separation.json
run lot us-usm:NDPR-2025-0001 --node "$REFINER"

# ---------------------------------------------------------------------------------------------
step "8. Refusals: what the nodes say no to (each exits 1 and writes nothing)"
for name in "${NAMES[@]}"; do eval "before_$name=\$(log_size \"\${ADDR[$name]}\")"; done

say ""
say "${B}8a. An event on the wrong node:${R} us-usm's receipt sent to the mine's node. A participant's"
say "events stand only in its home log (the registry's hosts), so custody has one judge."
refuse PERMISSION_DENIED submit --node "$MINE" --key keys/us-usm.key events/03-receipt.json

say ""
say "${B}8b. A dispatch of a lot the sender does not hold:${R} jp-magnets tries to ship 1 t of the"
say "NdPr oxide, which is still in us-usm's warehouse."
refuse FAILED_PRECONDITION submit --node "$BUYER" --key keys/jp-magnets.key \
  events/refuse-dispatch-not-held.json

say ""
say "${B}8c. An over-consumption:${R} us-usm claims to reduce 2 t of NdPr oxide into metal; it holds"
say "1.764 t. Custody is kept in whole grams."
refuse FAILED_PRECONDITION submit --node "$REFINER" --key keys/us-usm.key \
  events/refuse-over-consumption.json

say ""
say "${B}8d. A forged signature:${R} an extraction signed with pk-fwo's key, one bit of the signature"
say "altered on its way."
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
refuse UNAUTHENTICATED submit --node "$MINE" --signed signed/forged.signed.json

say ""
say "${B}8e. A replayed event:${R} the signed dispatch of step 6 is sent again. The node answers with"
say "the existing entry and appends nothing."
run submit --node "$MINE" --signed signed/02-dispatch.signed.json
grep -q "already in log" "$work/.out" || die "the replayed dispatch was not reported as already in the log"
for name in "${NAMES[@]}"; do
  after="$(log_size "${ADDR[$name]}")"
  eval "before=\$before_$name"
  [[ $after == "$before" ]] || die "the $name's log grew from $before to $after entries"
done
ok "no log grew: mine $(log_size "$MINE"), refiner $(log_size "$REFINER"), buyer $(log_size "$BUYER") entries"

# ---------------------------------------------------------------------------------------------
step "9. The refiner ships the oxide to Japan, then its node goes down"
cat >events/05-dispatch-ndpr.json <<'EOF'
{
  "dispatch": {
    "shipment_id": "USSM-NMW-2026-001",
    "recipient": "jp-magnets",
    "lots": [
      { "lot_id": "us-usm:NDPR-2025-0001", "mass_g": 1764000 }
    ],
    "transport": {
      "mode": "sea",
      "vessel": "ONE Harmony",
      "container_numbers": ["ONEU2093317"],
      "seal_numbers": ["US-SEAL-0441907"],
      "port_of_loading": "USHOU",
      "port_of_discharge": "JPYOK"
    },
    "hs_code": "2846.90"
  }
}
EOF
run_capture ndpr-dispatch.json submit --node "$REFINER" --key keys/us-usm.key --json \
  events/05-dispatch-ndpr.json
NDPR_DISPATCH="$(json_get ndpr-dispatch.json 'd[0]["event_id"]')"
wait_replica "$BUYER" us-usm-log "$(log_size "$REFINER")"
ok "the buyer's node holds and has verified the refiner's log up to the dispatch"
pid="${PID[refiner]}"
printf '%s$ kill -TERM %s    # the refiner'"'"'s node%s\n' "$DIM" "$pid" "$R"
stop_node refiner
[[ $node_status == 0 ]] || die "the refiner's cairnd exited with status $node_status after SIGTERM"
ok "the refiner's node (pid $pid) stopped cleanly"

# ---------------------------------------------------------------------------------------------
step "10. The others carry on: receipt and magnet production on the buyer's node; a new extraction"
cat >events/06-receipt-ndpr.json <<EOF
{
  "receipt": {
    "dispatch_event_id": "$NDPR_DISPATCH",
    "lots": [ { "lot_id": "us-usm:NDPR-2025-0001", "mass_g": 1764000 } ],
    "notes": "container ONEU2093317 received at Fukui; seal US-SEAL-0441907 intact"
  }
}
EOF
run submit --node "$BUYER" --key keys/jp-magnets.key events/06-receipt-ndpr.json
say "4.8 t of N42 magnets: Nd 1,123 kg and Pr 360 kg of the oxide's 1,134 kg and 365 kg."
run submit --node "$BUYER" --key keys/jp-magnets.key events/07-magnets.json
"$PY" - events/refuse-forged-extraction.json events/08-extraction.json <<'PYEOF'
import json, sys
event = json.load(open(sys.argv[1]))
event["extraction"]["lot_id"] = "pk-fwo:CHG-2026-0002"
json.dump(event, open(sys.argv[2], "w"), indent=2)
PYEOF
run submit --node "$MINE" --key keys/pk-fwo.key events/08-extraction.json
run status --node "$BUYER"
grep -q "us-usm-log" "$work/.out" || die "cairn status does not list the refiner's log"

# ---------------------------------------------------------------------------------------------
step "11. The refiner's node comes back and catches up"
start_node refiner
wait_replica "$REFINER" pk-fwo-log "$(log_size "$MINE")"
wait_replica "$REFINER" jp-magnets-log "$(log_size "$BUYER")"
run status --node "$REFINER"
ok "the refiner holds every entry of the mine's and the buyer's logs again, each one verified"

# ---------------------------------------------------------------------------------------------
step "12. Audit: the magnets' lineage across three logs, verified against the buyer's node alone"
say "cairn verify trusts nothing the node says: it checks every signature against the registry,"
say "every entry's inclusion in its log's signed checkpoint, custody across the logs, mass balance,"
say "origin shares and the restricted-source policy."
run trace jp-magnets:MAG-2026-0001 --node "$BUYER"
run verify --lot jp-magnets:MAG-2026-0001 --node "$BUYER" --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01
grep -q "PK" "$work/.out" || die "the verification printed no Pakistani origin share"
ok "verified: the magnets are 100% Pakistani-mined, US-separated, compliant with the 2027 policy"
run forks --node "$BUYER"
for name in mine buyer refiner; do
  run verify --log --node "${ADDR[$name]}" --registry registry.json
done
run export jp-magnets:MAG-2026-0001 -o magnets.bundle --node "$BUYER"

# ---------------------------------------------------------------------------------------------
step "13. Stop: SIGTERM every node and check each exited cleanly"
for name in "${NAMES[@]}"; do
  pid="${PID[$name]}"
  printf '%s$ kill -TERM %s    # the %s'"'"'s node%s\n' "$DIM" "$pid" "$name" "$R"
  stop_node "$name"
  [[ $node_status == 0 ]] || die "cairnd ($name) exited with status $node_status after SIGTERM"
  [[ ! -e /proc/$pid ]] || die "cairnd ($name, pid $pid) is still present"
done
ok "every node exited with status 0; no process left running"

# ---------------------------------------------------------------------------------------------
step "14. Offline: the auditor verifies the exported evidence bundle with no node running"
run verify --bundle magnets.bundle --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01
ok "the bundle verifies offline: signatures, inclusion proofs in three logs, custody, policy"

# ---------------------------------------------------------------------------------------------
step "15. Compliance: the magnets' report and their GS1 EPCIS 2.0 lineage, from the bundle"
say "The report a compliance officer files (verdict, what was checked, origin shares, mine sites,"
say "facilities, chain of custody, findings) as one self-contained HTML file with the provenance"
say "graph; and the same verified events as EPCIS 2.0 JSON-LD for the buyer's other systems."
run report --bundle magnets.bundle --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01 \
  --format html -o magnets-report.html
grep -q '<svg' "$work/magnets-report.html" || die "the HTML report has no provenance graph"
grep -q 'VERIFIED' "$work/magnets-report.html" || die "the HTML report does not say VERIFIED"
run export --epcis --bundle magnets.bundle --registry registry.json \
  --policy "$repo/deploy/policies/defence-magnets-2027.toml" --as-of 2027-03-01 \
  -o magnets-epcis.jsonld
grep -q '"EPCISDocument"' "$work/magnets-epcis.jsonld" || die "the EPCIS export is no EPCISDocument"
ok "wrote $work/magnets-report.html (open it in a browser) and $work/magnets-epcis.jsonld"

say ""
if ((clean)); then
  say "${GRN}Demo passed.${R} The work directory is deleted (--clean)."
else
  say "${GRN}Demo passed.${R} Everything is kept in $work:"
  say "  keys/ tls/ registry.json mine.toml refiner.toml buyer.toml mine/ refiner/ buyer/ events/"
  say "  magnets.bundle, magnets-report.html (the compliance report), magnets-epcis.jsonld (EPCIS)"
  say "Restart a node and look around:"
  say "  cd $work && $CAIRND --config buyer.toml &"
  say "  CAIRN_CA=tls/ca.crt CAIRN_CERT=tls/auditor.crt CAIRN_KEY=tls/auditor.key \\"
  say "    $CAIRN status --node $BUYER"
fi
