# Shared by the scripts: where things are, and a quiet configure+build.
# shellcheck shell=bash
BANYAN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BANYAN_BUILD=${BANYAN_BUILD:-$BANYAN_ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/banyan-ccache}
# Paths inside the checkout hash as relative ones and the build directory's own path not
# at all, so another clone of the tree (a fresh one, a CI workspace) reuses the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$BANYAN_ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

log() { printf '[banyan] %s\n' "$*" >&2; }

# install_tool COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing.
install_tool() {
  command -v "$1" >/dev/null && return 0
  log "installing $2"
  local sudo_if=()
  [[ $(id -u) -eq 0 ]] || sudo_if=(sudo)
  quietly "${sudo_if[@]}" apt-get update -qq
  quietly "${sudo_if[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"
}

# Runs a command with its output kept in a log file; prints the log only if it fails.
quietly() {
  local out
  out=$(mktemp)
  if ! "$@" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

# build [extra cmake args...]: configures (once) and builds the tree with Ninja (only the
# targets named in BANYAN_TARGETS, when set).
build() {
  if [[ ! -f "$BANYAN_BUILD/build.ninja" ]]; then
    log "configuring $BANYAN_BUILD"
    quietly cmake -S "$BANYAN_ROOT" -B "$BANYAN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  elif [[ $# -gt 0 ]]; then
    quietly cmake -S "$BANYAN_ROOT" -B "$BANYAN_BUILD" "$@"
  fi
  log "building"
  local targets=()
  [[ -n ${BANYAN_TARGETS:-} ]] && read -ra targets <<<"--target $BANYAN_TARGETS"
  quietly cmake --build "$BANYAN_BUILD" --parallel "$(nproc)" "${targets[@]}"
}
