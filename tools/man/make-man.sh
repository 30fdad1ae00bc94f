#!/usr/bin/env bash
# Writes the manual pages from the programs' own --help (Debian's help2man), so they cannot drift
# from the code: cairn.1, one cairn-COMMAND.1 per subcommand (git style), cairnd.1, cairn-bench.1,
# cairn-admin.1.
# Usage: make-man.sh OUT_DIR VERSION CAIRN CAIRND CAIRN_BENCH CAIRN_ADMIN
set -euo pipefail
out=$1 version=$2 cairn=$3 cairnd=$4 bench=$5 admin=$6
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The subcommands, as `cairn --help` lists them.
mapfile -t commands < <("$cairn" --help | awk '/^Subcommands:/ {on = 1; next}
  on && /^  [a-z][a-z-]* / {print $1}')
if ((${#commands[@]} == 0)); then
  echo "make-man: found no subcommands in '$cairn --help'" >&2
  exit 1
fi

see_also="cairn(1), cairnd(1), cairn-bench(1), cairn-admin(1)"
for c in "${commands[@]}"; do see_also+=", cairn-$c(1)"; done
printf '[SEE ALSO]\n%s\n\nREADME.md and DESIGN.md in the source tree.\n' "$see_also" >"$tmp/see-also"

page() {  # NAME SUMMARY PROGRAM
  LC_ALL=C.UTF-8 help2man --locale=C.UTF-8 --no-info --no-discard-stderr --version-string="$version" --name="$2" \
    --include="$tmp/see-also" --output="$out/$1.1" "$3"
}

page cairn "submit, read and verify provenance events on a Cairn ledger" "$cairn"
page cairnd "the Cairn ledger node: signed, hash-chained event logs over gRPC" "$cairnd"
page cairn-bench "load generator for a Cairn node, with the machine's limits measured alongside" \
  "$bench"
page cairn-admin "operations on a cairnd database file: online backup and restore" "$admin"
for c in "${commands[@]}"; do
  # help2man runs PROGRAM --help: a wrapper named after the page runs the subcommand.
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$cairn" "$c" >"$tmp/cairn-$c"
  chmod +x "$tmp/cairn-$c"
  # The first phrase of the command's description: up to its first ". " or ": ".
  # (sed reads all of the help: head would leave cairn writing to a closed pipe, SIGPIPE.)
  summary=$("$cairn" "$c" --help | sed -n -e 1p | sed -e 's/\. .*//' -e 's/: .*//' -e 's/ — .*//' -e 's/[.:]*$//')
  page "cairn-$c" "$summary" "$tmp/cairn-$c"
done
echo "make-man: $((${#commands[@]} + 4)) pages in $out"
