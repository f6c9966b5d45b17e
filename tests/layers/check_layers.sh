#!/usr/bin/env bash
# Each layer of lib/ builds against its own include folder (lib/CMakeLists.txt,
# banyan_layer): an include that runs the wrong way is not found. For every layer this
# compiles one include it may make (it must build, so the check itself works) and the
# includes it must not make (each must fail with "No such file").
#
#   check_layers.sh CXX LAYERS_DIR
set -uo pipefail
cxx=$1 layers=$2
failures=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

probe() {  # layer header -> 0 when a source of that layer can include the header
  printf '#include "%s"\n' "$2" |
    "$cxx" -std=c++20 -fsyntax-only -I"$layers/$1" -x c++ - 2>"$err"
}

may() {
  if ! probe "$1" "$2"; then
    echo "FAIL: $1 should build with #include \"$2\":" && head -5 "$err"
    failures=$((failures + 1))
  fi
}

may_not() {
  local layer=$1 header
  shift
  for header in "$@"; do
    if probe "$layer" "$header"; then
      echo "FAIL: $layer builds with #include \"$header\", a wrong-way include"
      failures=$((failures + 1))
    elif ! grep -q "$header: No such file" "$err"; then
      echo "FAIL: $layer with #include \"$header\" failed for another reason:"
      head -5 "$err"
      failures=$((failures + 1))
    else
      echo "ok: $layer cannot include $header"
    fi
  done
}

may util "util/encoding.hpp"
may_not util "model/writable_fields.hpp" "banyan/model/record.hpp" "store/session.hpp"

may model "banyan/model/fields.hpp"
may_not model "store/session.hpp" "banyan/store/database.hpp" "net/http_client.hpp"

may net "net/http_client.hpp"
may_not net "banyan/model/record.hpp" "store/entity.hpp"

may store "store/session.hpp"
may_not store "messaging/queue_store.hpp" "banyan/messaging/message_bus.hpp" \
  "security/security_sql.hpp" "banyan/security/role.hpp" "banyan/saga/saga.hpp" \
  "banyan/engine.hpp" "net/http_client.hpp"

may messaging "messaging/queue_store.hpp"
may_not messaging "banyan/saga/saga.hpp" "security/issuer_keys.hpp" \
  "banyan/security/access_policy.hpp" "banyan/engine.hpp"

may security "security/security_sql.hpp"
may_not security "messaging/queue_store.hpp" "banyan/messaging/message_bus.hpp" \
  "banyan/saga/saga.hpp" "banyan/engine.hpp"

may saga "banyan/saga/saga.hpp"
may_not saga "security/issuer_keys.hpp" "security/role_store.hpp" "banyan/engine.hpp" \
  "banyan/builtin_sagas.hpp"

may service "banyan/builtin_sagas.hpp"
may_not service "rest/routes.hpp" "banyan/rest/api.hpp"

[[ $failures -eq 0 ]] || { echo "$failures layer check(s) failed"; exit 1; }
echo "every layer builds only against the layers below it"
