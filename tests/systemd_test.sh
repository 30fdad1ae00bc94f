#!/usr/bin/env bash
# deploy/systemd/cairnd.service as systemd reads it: `systemd-analyze verify` finds no error, and
# `systemd-analyze security --offline=yes` rates its exposure at or below the threshold. Exposure
# runs from 0.0 (fully locked down) to 10.0 (unprotected; a typical distribution network daemon
# rates 6-9); --threshold takes it times ten, so the default 20 means at most 2.0.
# Usage: systemd_test.sh CAIRND [THRESHOLD]
set -euo pipefail
cairnd=$1
threshold=${2:-20}
repo="$(cd "$(dirname "$0")/.." && pwd)"
unit="$repo/deploy/systemd/cairnd.service"
fail() { echo "systemd_test: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (apt-get install systemd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The unit runs /usr/local/bin/cairnd once installed; here, the one just built (verify checks
# that ExecStart is executable).
sed "s|/usr/local/bin/cairnd|$cairnd|" "$unit" >"$tmp/cairnd.service"
if ! out=$(systemd-analyze verify --man=no "$tmp/cairnd.service" 2>&1); then
  fail "systemd-analyze verify: $out"
fi
# Lines about the unit itself (not about other units on this machine) are problems too.
if grep -i 'cairnd.service' <<<"$out"; then fail "systemd-analyze verify warns: $out"; fi
if ! security=$(systemd-analyze security --offline=yes --threshold="$threshold" \
  "$tmp/cairnd.service" 2>&1); then
  fail "exposure above $threshold/10: $(tail -n 3 <<<"$security")"
fi
# The threshold bites: the same unit without its hardening block is refused.
sed '/^# Hardening/,/^SystemCallErrorNumber/d' "$tmp/cairnd.service" >"$tmp/bare.service"
if systemd-analyze security --offline=yes --threshold="$threshold" "$tmp/bare.service" \
  >/dev/null 2>&1; then
  fail "the unhardened unit passes the threshold too: the check cannot fail"
fi
# The hardening the unit promises.
for setting in Type=notify WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict StateDirectory= \
  PrivateTmp=yes LoadCredential= Restart=on-failure User=cairn; do
  grep -q "^$setting" "$unit" || fail "the unit lacks $setting"
done
echo "systemd_test: verified; $(grep -o 'Overall exposure level.*' <<<"$security")"
