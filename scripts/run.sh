#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, then has the
# banyan CLI create ./banyan.db, load a small demo data set and print a pipeline summary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
source "$here/lib/common.sh"
build
"$BANYAN_BUILD/hosts/cli/banyan" demo --database "sqlite://$PWD/banyan.db"
