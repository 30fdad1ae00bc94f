#!/usr/bin/env bash
# How long `cairn report --format html` (graph layout included) and `cairn export --epcis` take
# on a 10,000-lot lineage, next to `cairn verify --bundle` of the same bundle: both run the
# verification first, so verify's time is the floor the same machine sets in the same run, and
# the difference is what the report (model, Graphviz layout, HTML) and the export add.
#
#   tests/perf/report_bench.sh [BUILD_DIR] [ROUNDS]
#
# BUILD_DIR (default build) holds tests/cairn_lineage_bench and client/cairn. The bundle is built
# once (20,000 events: 5,000 mine lots, each blended into the running product: 10,000 lots on the
# last product's lineage); the three commands then run interleaved ROUNDS times (default 5), and
# the medians are printed. Not part of ctest: this VM's speed drifts, so run it on a quiet machine.
set -euo pipefail
build="${1:-build}"
rounds="${2:-5}"
cairn="$build/client/cairn"
bench="$build/tests/cairn_lineage_bench"
for f in "$cairn" "$bench"; do [[ -x $f ]] || { echo "$f: not built" >&2; exit 2; }; done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bench" --events 20000 --write-bundle "$work" >&2
export XDG_STATE_HOME="$work/state"

# Seconds of wall time of one run of "$@" (its output discarded; exit 0 required).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}'
}
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.2f", m}'; }

: >"$work/verify" && : >"$work/html" && : >"$work/epcis"
for ((i = 1; i <= rounds; i++)); do
  seconds "$cairn" verify --bundle "$work/bench.bundle" --registry "$work/registry.json" \
    >>"$work/verify"
  seconds "$cairn" report --bundle "$work/bench.bundle" --registry "$work/registry.json" \
    --format html -o "$work/report.html" --force >>"$work/html"
  seconds "$cairn" export --epcis --bundle "$work/bench.bundle" --registry "$work/registry.json" \
    -o "$work/lineage.jsonld" --force >>"$work/epcis"
done
lots=$(grep -o 'lots, drawn collapsed' "$work/report.html" >/dev/null && echo collapsed || echo drawn)
v=$(median <"$work/verify")
h=$(median <"$work/html")
e=$(median <"$work/epcis")
printf 'report bench, %d rounds, medians (wall, s):\n' "$rounds"
printf '  cairn verify --bundle (the floor):      %6.2f\n' "$v"
printf '  cairn report --format html:             %6.2f  (+%.2f over verify; graph %s; %d KB)\n' \
  "$h" "$(awk -v a="$h" -v b="$v" 'BEGIN {print a - b}')" "$lots" $(($(stat -c %s "$work/report.html") / 1024))
printf '  cairn export --epcis:                   %6.2f  (+%.2f over verify; %d KB)\n' \
  "$e" "$(awk -v a="$e" -v b="$v" 'BEGIN {print a - b}')" $(($(stat -c %s "$work/lineage.jsonld") / 1024))
