#!/usr/bin/env bash
# Validates EPCIS 2.0 documents with npm's epcis2.js (tests/epcis/validate.js), installing what it
# needs itself: Debian's nodejs and npm when missing, and epcis2.js from the npm registry into
# CACHE_DIR once (later runs reuse it; concurrent runs wait for the one installing).
# Usage: validate.sh CACHE_DIR FILE...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=$1
shift
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm
fi
mkdir -p "$cache"
(
  flock 9
  if [[ ! -f $cache/node_modules/epcis2.js/package.json ]]; then
    cp "$here/package.json" "$cache/"
    rm -rf "$cache/fs-placeholder"
    cp -r "$here/fs-placeholder" "$cache/"
    (cd "$cache" && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
) 9>"$cache/.lock"
NODE_PATH="$cache/node_modules" exec node "$here/validate.js" "$@"
