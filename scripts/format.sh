#!/usr/bin/env bash
# The tree's C++ formatting (.clang-format: Google, 100 columns).
#
#   ./scripts/format.sh          reformat every tracked C++ file in place
#   ./scripts/format.sh --check  list the files that differ and exit 1 (CI runs this)
#
# Installs clang-format (Debian's, version 14) when it is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"  # log, quietly, install_tool
cd "$BANYAN_ROOT"
install_tool clang-format clang-format
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cxx' '*.hxx')
if [[ ${1:-} == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if [[ ${#bad[@]} -gt 0 ]]; then
    log "not formatted (run ./scripts/format.sh): ${bad[*]}"
    exit 1
  fi
  log "formatting: ${#files[@]} files agree with .clang-format"
else
  clang-format -i "${files[@]}"
fi
