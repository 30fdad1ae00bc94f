#!/usr/bin/env bash
# Installs every Debian 12 package Cairn's build, demo and tests need, and any packages named as
# arguments. Idempotent: packages already present are skipped, and apt-get runs only when something
# is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ccache
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev grpc-proto
  libsqlite3-dev sqlite3 libsodium-dev libssl-dev openssl
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libgraphviz-dev libkainjow-mustache-dev help2man man-db
  chromium poppler-utils fonts-dejavu-core
  libsystemd-dev systemd python3-grpcio yamllint docker-compose prometheus-cpp-dev
  python3-prometheus-client
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
)

# Extra packages a caller needs (tests/run.sh --sanitize: clang and its sanitizer runtimes).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
