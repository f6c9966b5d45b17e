#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts a private MariaDB, runs CTest
# (unit, SQLite and MariaDB integration, pool faults, the installed-package example, the
# Python module's pytest suites on both backends).
#
#   ./scripts/test.sh              everything
#   ./scripts/test.sh -L unit      only tests with a CTest label (unit, integration, messaging, server,
#                                  fault, fuzz, slow, install, python; one per suite)
#   ./scripts/test.sh -R Pool      any other ctest arguments
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" --test
source "$here/lib/common.sh"
source "$here/lib/mariadb.sh"

# The libFuzzer target too (clang, installed by setup.sh --test), the examples in the tree, and
# the Python module for Debian's interpreter (the one its pytest and pandas belong to).
build -DBANYAN_FUZZ=ON -DBANYAN_BUILD_EXAMPLES=ON -DBANYAN_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3
log "starting a private MariaDB"
mariadb_start
log "running tests"
cd "$BANYAN_BUILD"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900 "$@"
