#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over the C++ sources of the layers named, against the compile
# commands of a tree of their own (build-tidy: configured, never built). The ODB island
# (C++14, generated code) is not a layer to check.
#
#   ./scripts/tidy.sh lib/rest lib/messaging    the layers to check (default: lib/rest)
#   ./scripts/tidy.sh lib/rest/api.cpp          or single files
#
# Prints each finding and exits 1 when there is one. Installs clang-tidy (Debian's,
# version 14) when it is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"  # log, quietly, install_tool
cd "$BANYAN_ROOT"
install_tool clang-tidy clang-tidy
dirs=("$@")
[[ ${#dirs[@]} -gt 0 ]] || dirs=(lib/rest)
tree=${BANYAN_TIDY_BUILD:-$BANYAN_ROOT/build-tidy}
if [[ ! -f $tree/compile_commands.json ]]; then
  log "configuring $tree (compile commands only)"
  quietly cmake -S "$BANYAN_ROOT" -B "$tree" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DBANYAN_BUILD_TESTS=OFF
fi
files=()
for arg in "${dirs[@]}"; do
  if [[ -f $arg ]]; then
    files+=("$arg")
  else
    mapfile -t -O "${#files[@]}" files < <(git ls-files "$arg/*.cpp")
  fi
done
if [[ ${#files[@]} -eq 0 ]]; then
  log "clang-tidy: no files to check"
  exit 0
fi
log "clang-tidy: ${#files[@]} files in ${dirs[*]}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$tree" --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null \
  | grep -E '^/.*(warning|error):' | sort -u >"$out" || true
if [[ -s $out ]]; then
  cat "$out"
  log "clang-tidy: $(wc -l <"$out") findings"
  exit 1
fi
log "clang-tidy: no findings"
