#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, loads a demo CRM
# into ./banyan.db (and prints its pipeline), then starts banyan-server on
# 127.0.0.1:8080 in the background and shows a working curl call against it.
# Run it again to restart the server on the new build; stop it with the printed kill.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
source "$here/lib/common.sh"
build
db="sqlite://$PWD/banyan.db"
pidfile="$PWD/banyan-server.pid"
logfile="$PWD/banyan-server.log"
# A server this script started before gives way to the new build.
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill -TERM "$(cat "$pidfile")"
  for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
fi
cli="$BANYAN_BUILD/hosts/cli/banyan"
# Encryption at rest: the demo's key ring, made once and readable by its owner only (in
# real use keep it apart from the database). Every process below reads it from the
# environment; a database from an earlier run without keys is resealed with it.
keyfile="$PWD/banyan.keys"
[[ -s $keyfile ]] || (umask 077 && "$cli" encryption keygen --id demo1 >"$keyfile")
export BANYAN_ENCRYPTION_KEY_FILE="$keyfile"
"$cli" demo --database "$db"
"$cli" encryption rewrap --database "$db" >/dev/null
# Every route but the health checks and the API document needs credentials: an API key
# for a demo service account (an administrator: this is your own local demo), new each run.
demo_user=$("$cli" user add --email demo@banyan.local --name "run.sh demo" --role admin --if-missing --database "$db")
api_key=$("$cli" apikey create --user "$demo_user" --name "run.sh demo" --database "$db" 2>/dev/null)
nohup "$BANYAN_BUILD/hosts/server/banyan-server" --database "$db" >"$logfile" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 100); do
  grep -q "listening on" "$logfile" && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$logfile" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$logfile" || { cat "$logfile" >&2; exit 1; }
example="curl -s -H 'Authorization: Bearer $api_key' 'http://127.0.0.1:8080/v1/contacts?limit=2&fields=first_name,last_name,email'"
echo
echo "banyan-server is running (pid $(cat "$pidfile"), log $logfile). Try:"
echo "  $example"
echo "$ $example"
eval "$example"
echo
echo "Stop it with: kill \$(cat $pidfile)"
