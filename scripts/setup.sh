#!/usr/bin/env bash
# Installs what Banyan needs to build and test on Debian 12, quietly and idempotently.
# Fast when nothing is missing: it only asks dpkg, and touches apt only for what is absent.
#
# Usage: scripts/setup.sh [--test|--bench]   (--test adds what the test suite needs: MariaDB
# server, pytest, jsonschema, clang for libFuzzer, Node.js and the npm oidc-provider, and
# what the Python module builds and is tested with: pybind11, Python's headers, pip, pandas;
# --bench that, wrk and SQLAlchemy)
set -euo pipefail

want_test=0 want_bench=0
for arg in "$@"; do
  [[ $arg == --test ]] && want_test=1
  [[ $arg == --bench ]] && want_test=1 want_bench=1
done

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"  # log, quietly

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

build_pkgs=(
  g++ cmake ninja-build ccache pkg-config
  odb libsqlite3-dev sqlite3
  libmariadb-dev libmariadb-dev-compat
  nlohmann-json3-dev libzmq3-dev cppzmq-dev libboost-dev libssl-dev libcli11-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(mariadb-server mariadb-client python3-pytest python3-jsonschema clang-14 libclang-rt-14-dev openssl
  pybind11-dev python3-dev python3-pip python3-pandas)
# ODB 2.4 runtime: Debian 12 ships the compiler but not the runtime (see ARCHITECTURE.md).
odb_runtime=(libodb-2.4 libodb-dev libodb-sqlite-2.4 libodb-sqlite-dev libodb-mysql-2.4 libodb-mysql-dev)

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

apt_updated=0
apt_update_once() {
  if [[ $apt_updated -eq 0 ]]; then
    quietly as_root apt-get update -qq
    apt_updated=1
  fi
}

pkgs=("${build_pkgs[@]}")
[[ $want_test -eq 1 ]] && pkgs+=("${test_pkgs[@]}")
[[ $want_bench -eq 1 ]] && pkgs+=(wrk iproute2 python3-sqlalchemy)
mapfile -t need < <(missing "${pkgs[@]}")
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing: ${need[*]}"
  apt_update_once
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}"
fi

mapfile -t need < <(missing "${odb_runtime[@]}")
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing the ODB 2.4 runtime"
  apt_update_once
  if [[ -n $(apt-cache policy libodb-dev 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"') ]]; then
    # Newer Debian and Ubuntu carry the runtime: install it by name.
    quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    # Debian 12: take the bullseye packages through a private apt configuration that reuses
    # the system's own Debian mirror, without adding bullseye to the system's sources.
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [[ -n "$uri" ]] || uri=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    chmod 755 "$work"  # apt's sandbox user must be able to write the downloads
    mkdir -p "$work/lists/partial" "$work/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bullseye main" \
      >"$work/sources.list"
    opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/lists")
    quietly as_root apt-get "${opts[@]}" update -qq
    (cd "$work/debs" && quietly as_root apt-get "${opts[@]}" download -qq "${need[@]}")
    quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work"/debs/*.deb
  fi
fi

# The test suite's OIDC provider is the npm package oidc-provider (tests/oidc), on the
# machine's Node.js, or Debian's when there is none.
if [[ $want_test -eq 1 ]]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing Node.js"
    apt_update_once
    quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  oidc="$BANYAN_ROOT/tests/oidc"
  if [[ ! -f $oidc/node_modules/.package-lock.json || $oidc/package-lock.json -nt $oidc/node_modules/.package-lock.json ]]; then
    log "installing the test OIDC provider (npm oidc-provider)"
    quietly npm ci --prefix "$oidc" --no-audit --no-fund
  fi
fi
