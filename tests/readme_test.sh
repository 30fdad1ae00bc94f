#!/usr/bin/env bash
# Runs README.md's tutorial as a user pastes it: every ```sh block between
# <!-- tutorial:begin --> and <!-- tutorial:end -->, in order, in one bash with -e, from the top
# of the checkout, with cairn and cairnd of BUILD_DIR first on PATH. Its one change to the text:
# a free port instead of 7400. A failing command fails the test, naming its line.
# Usage: readme_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d)
cleanup() {
  # Whatever the tutorial left running in its directories (the node, if a step failed).
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    if [[ $cwd == "$work"* && ${proc#/proc/} != "$$" ]]; then kill -9 "${proc#/proc/}" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

script=$work/tutorial.sh
awk '/<!-- tutorial:begin -->/ {on = 1} /<!-- tutorial:end -->/ {on = 0}
  on && /^```sh$/ {block = 1; next} block && /^```$/ {block = 0; next} block {print}' \
  "$src/README.md" >"$work/blocks.sh"
blocks=$(grep -c '^```sh$' <(awk '/<!-- tutorial:begin -->/,/<!-- tutorial:end -->/' "$src/README.md"))
((blocks >= 5)) || { echo "readme_test: only $blocks tutorial blocks found in README.md" >&2; exit 1; }
grep -q 7400 "$work/blocks.sh" || { echo "readme_test: the tutorial no longer uses 7400" >&2; exit 1; }
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  echo 'set -eEuo pipefail'
  echo 'trap '\''echo "readme_test: tutorial line $((LINENO - 3)) failed: $BASH_COMMAND" >&2'\'' ERR'
  echo
  sed "s/7400/$port/g" "$work/blocks.sh"
} >"$script"

mkdir -p "$work/tmp" "$work/state"
cd "$src"
echo "readme_test: $blocks blocks, $(wc -l <"$work/blocks.sh") lines, node on port $port"
PATH="$build/client:$build/node:$PATH" TMPDIR="$work/tmp" XDG_STATE_HOME="$work/state" \
  timeout 240 bash "$script" >"$work/out.log" 2>&1 || {
  status=$?
  cat "$work/out.log"
  echo "readme_test: the tutorial failed (exit $status)" >&2
  exit 1
}
out=$(cat "$work/out.log")
echo "$out"
# What the tutorial shows must also be what happened.
for expect in "serving log pk-fwo-log (0 entries)" "VERIFIED: lot us-usm:NDPR-2025-0001" \
  "offline: exit 0"; do
  grep -qF "$expect" <<<"$out" || { echo "$out"; echo "readme_test: no '$expect'" >&2; exit 1; }
done
tutorial_dir=$(find "$work/tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
grep -q '"verdict": "VERIFIED"' "$tutorial_dir/verdict.json" ||
  { cat "$tutorial_dir/verdict.json"; echo "readme_test: offline verdict not VERIFIED" >&2; exit 1; }
grep -q '^digraph lineage' "$tutorial_dir/lineage.dot" || { echo "readme_test: no DOT" >&2; exit 1; }
grep -q '<div class="verdict VERIFIED"' "$tutorial_dir/ndpr-report.html" ||
  { echo "readme_test: the HTML report does not say VERIFIED" >&2; exit 1; }
[[ $(head -c 5 "$tutorial_dir/ndpr-report.pdf") == "%PDF-" ]] ||
  { echo "readme_test: no PDF report" >&2; exit 1; }
echo "readme_test: the README's tutorial ran as written"
