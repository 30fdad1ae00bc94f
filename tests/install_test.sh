#!/usr/bin/env bash
# `cmake --install` into a fresh prefix: the three programs run from there and every command of
# `cairn --help` has a manual page generated from its --help, which man renders.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for program in cairn cairnd cairn-bench cairn-admin; do
  [[ -x $prefix/bin/$program ]] || fail "bin/$program not installed"
  "$prefix/bin/$program" --version | grep -q "^$program [0-9]" || fail "$program --version"
done
man1=$prefix/share/man/man1
mapfile -t commands < <("$prefix/bin/cairn" --help | awk '/^Subcommands:/ {on = 1; next}
  on && /^  [a-z][a-z-]* / {print $1}')
((${#commands[@]} >= 10)) || fail "cairn --help lists only ${#commands[@]} commands"
for page in cairn cairnd cairn-bench cairn-admin "${commands[@]/#/cairn-}"; do
  [[ -s $man1/$page.1 ]] || fail "no manual page $page.1"
done
# The page says what --help says: verify's --quiet and its exit codes, trace's --format dot.
rendered=$(MANWIDTH=100 man -l "$man1/cairn-verify.1" 2>/dev/null)
grep -q -- "--quiet" <<<"$rendered" || fail "cairn-verify(1) lacks --quiet"
grep -q "restricted" <<<"$rendered" || fail "cairn-verify(1) lacks the exit codes"
grep -q "SEE ALSO" <<<"$rendered" || fail "cairn-verify(1) lacks SEE ALSO"
MANWIDTH=100 man -l "$man1/cairn-trace.1" 2>/dev/null | grep -q -- "--format" ||
  fail "cairn-trace(1) lacks --format"
grep -q '???' "$man1"/*.1 && fail "a page lost its UTF-8 text"
echo "install_test: ${#commands[@]} commands, $(ls "$man1" | wc -l) pages, programs run from $prefix"
