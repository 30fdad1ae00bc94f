#!/usr/bin/env bash
# The deploy files as the tools that read them see them, without a container engine or a cluster:
# yamllint and `docker-compose config` for deploy/compose.yaml, yamllint and
# tests/deploy/check_k8s.py for deploy/k8s/ (with a broken copy that must fail), and cairnd itself
# for every cairnd.toml they carry (the configuration must resolve; the key and registry files it
# names exist only where it is deployed). Usage: deploy_test.sh CAIRND
set -euo pipefail
cairnd=$1
repo="$(cd "$(dirname "$0")/.." && pwd)"
fail() { echo "deploy_test: $*" >&2; exit 1; }
for tool in yamllint docker-compose; do
  command -v "$tool" >/dev/null || fail "$tool not found (deploy/install-deps.sh installs it)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lint='{extends: default, rules: {line-length: {max: 100}, document-start: disable}}'
yamllint -s -d "$lint" "$repo/deploy/compose.yaml" "$repo"/deploy/k8s/*.yaml ||
  fail "yamllint found problems"
CAIRN_CONSORTIUM="$tmp" docker-compose -f "$repo/deploy/compose.yaml" config -q ||
  fail "docker-compose config refuses deploy/compose.yaml"
for manifest in "$repo"/deploy/k8s/*.yaml; do
  /usr/bin/python3 "$repo/tests/deploy/check_k8s.py" "$manifest" "$tmp" || fail "$manifest"
done
# The check can fail: two replicas of one log, and a probe on a port the container does not open.
sed -e 's/replicas: 1/replicas: 2/' -e 's/^              port: 7400$/              port: 7401/' \
  "$repo/deploy/k8s/cairnd.yaml" >"$tmp/broken.yaml"
if /usr/bin/python3 "$repo/tests/deploy/check_k8s.py" "$tmp/broken.yaml" "$tmp" >"$tmp/out"; then
  fail "check_k8s.py accepts a broken manifest"
fi
grep -q "replicas must be 1" "$tmp/out" || fail "check_k8s.py missed the replicas: $(cat "$tmp/out")"
grep -q "is no container port" "$tmp/out" || fail "check_k8s.py missed the probe port"
# Every cairnd.toml resolves (its keys, types and ranges); only the files it names are missing.
for config in "$repo"/deploy/compose/*.toml "$tmp/k8s-cairnd.toml"; do
  out=$("$cairnd" --config "$config" --check-config 2>&1 || true)
  grep -q '^db = "/var/lib/cairn/node.db"' <<<"$out" || fail "$config does not resolve: $out"
done
echo "deploy_test: compose.yaml, the k8s manifests and their cairnd.toml files check out"
