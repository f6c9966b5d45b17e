# A private MariaDB server for tests and benchmarks: its own data directory, socket and
# loopback port, never the system instance. Source this file, then call mariadb_start;
# it exports BANYAN_TEST_MYSQL_URL and stops the server when the calling shell exits.
# shellcheck shell=bash

mariadb_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mariadb_start() {
  local dir port
  dir=$(mktemp -d /tmp/banyan-mariadb.XXXXXX)
  port=$(mariadb_free_port)
  chown -R mysql:mysql "$dir" 2>/dev/null || true
  if ! mariadb-install-db --no-defaults --datadir="$dir/data" --user=mysql \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1; then
    cat "$dir/install.log" >&2
    return 1
  fi
  # Grant tables are skipped: the instance is private, on loopback, and lives only as
  # long as this script. Settings favour a fast test run over crash safety.
  mariadbd --no-defaults --user=mysql --datadir="$dir/data" --socket="$dir/mysqld.sock" \
    --port="$port" --bind-address=127.0.0.1 --skip-grant-tables --skip-log-bin \
    --innodb-buffer-pool-size=128M --innodb-log-file-size=64M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" &
  MARIADB_PID=$!
  MARIADB_DIR=$dir
  trap 'mariadb_stop' EXIT
  local i
  for i in $(seq 1 120); do
    if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" ping >/dev/null 2>&1; then
      export BANYAN_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/banyan"
      export BANYAN_TEST_MYSQL_SOCKET="$dir/mysqld.sock"
      return 0
    fi
    if ! kill -0 "$MARIADB_PID" 2>/dev/null; then break; fi
    sleep 0.25
  done
  echo "MariaDB did not start; its log:" >&2
  cat "$dir/error.log" >&2
  return 1
}

mariadb_stop() {
  if [[ -n "${MARIADB_PID:-}" ]]; then
    kill "$MARIADB_PID" 2>/dev/null || true
    wait "$MARIADB_PID" 2>/dev/null || true
    MARIADB_PID=
  fi
  [[ -n "${MARIADB_DIR:-}" ]] && rm -rf "$MARIADB_DIR"
}
