#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: a primary and a streaming
# replica (pg_basebackup), both in one temporary directory, listening only
# on unix sockets in that directory (listen_addresses=''), fsync off.
#
#   tools/pg-test-server.sh start [DIR]     start; print the env lines to eval
#   tools/pg-test-server.sh stop DIR        stop both servers by pid, remove DIR
#   tools/pg-test-server.sh run -- CMD...   start, run CMD with the env set,
#                                           stop (always, even when CMD fails
#                                           or is interrupted); CMD's status
#                                           (see run() for the exceptions)
#
# The env given to CMD (and printed by start):
#   CORM_TEST_DB=postgresql://postgres@/postgres?host=DIR&port=P   the primary
#   CORM_TEST_PG_REPLICA=postgresql://postgres@/postgres?host=DIR&port=R
#   CORM_TEST_PG_DIR=DIR
# The packages come from tools/deps.sh pg when initdb is missing.  The server
# refuses to run as root, so as root everything runs as the unprivileged
# system user corm-pg (created with useradd when missing).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PG_USER=corm-pg
PORT=${CORM_PG_PORT:-55432}
RPORT=$((PORT + 1))

die() { echo "pg-test-server: $*" >&2; exit 1; }

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

ensure_packages() {
  if ! bindir >/dev/null; then
    echo "pg-test-server: installing PostgreSQL (tools/deps.sh pg)" >&2
    "$here/deps.sh" pg >&2 || die "could not install PostgreSQL (tools/deps.sh pg)"
  fi
  BIN=$(bindir) || die "no initdb found after tools/deps.sh pg"
}

# as_user CMD...: run as the server's user (ourselves unless root).
as_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$PG_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    "$PG_USER" >&2 || die "cannot create the unprivileged user $PG_USER (useradd)"
}

url() { echo "postgresql://postgres@/postgres?host=$1&port=$2"; }

wait_ready() { # dir port what
  local i
  for i in $(seq 1 200); do
    "$BIN/pg_isready" -q -h "$1" -p "$2" && return 0
    sleep 0.05
  done
  return 1
}

start_server() { # datadir port dir log
  as_user "$BIN/pg_ctl" -D "$1" -l "$4" -s -w -t 30 start \
    -o "-c listen_addresses='' -c unix_socket_directories='$3' -p $2" >&2
}

start() {
  local dir=${1:-}
  ensure_packages
  ensure_user
  if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/corm-pg.XXXXXX); fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$dir"
  as_user "$BIN/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
  cat >>"$dir/primary/postgresql.conf" <<EOF
# corm test server: throwaway, so durability is off
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
max_connections = 200
hot_standby = on
hot_standby_feedback = on
log_min_messages = warning
log_min_error_statement = panic
EOF
  start_server "$dir/primary" "$PORT" "$dir" "$dir/primary.log" \
    || { cat "$dir/primary.log" >&2; die "the primary did not start (log above)"; }
  wait_ready "$dir" "$PORT" || die "the primary does not accept connections"
  # the replica: a base backup of the primary, streaming from it (-R)
  as_user "$BIN/pg_basebackup" -h "$dir" -p "$PORT" -U postgres -D "$dir/replica" -R \
    -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1 \
    || { cat "$dir/basebackup.log" >&2; stop "$dir"; die "pg_basebackup failed (log above)"; }
  start_server "$dir/replica" "$RPORT" "$dir" "$dir/replica.log" \
    || { cat "$dir/replica.log" >&2; stop "$dir"; die "the replica did not start (log above)"; }
  wait_ready "$dir" "$RPORT" || { stop "$dir"; die "the replica does not accept connections"; }
  echo "CORM_TEST_DB='$(url "$dir" "$PORT")'"
  echo "CORM_TEST_PG_REPLICA='$(url "$dir" "$RPORT")'"
  echo "CORM_TEST_PG_DIR='$dir'"
}

# Whether pid runs (a zombie, left when nobody reaps the daemon, does not).
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# Stop one server by the pid in its postmaster.pid: SIGQUIT is PostgreSQL's
# immediate shutdown (nothing is kept, so no checkpoint); SIGKILL after 10 s.

stop_one() {
  local data=$1 pid i
  [ -f "$data/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$data/postmaster.pid")
  [ -n "$pid" ] || return 0
  kill -QUIT "$pid" 2>/dev/null || return 0
  for i in $(seq 1 200); do alive "$pid" || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  local dir=${1:?usage: pg-test-server.sh stop DIR}
  [ -d "$dir" ] || return 0
  case "$dir" in /tmp/corm-pg.*|*/corm-pg*) ;; *) die "refusing to remove '$dir' (not a corm-pg dir)";; esac
  stop_one "$dir/replica"
  stop_one "$dir/primary"
  rm -rf "$dir"
}

# run: with CORM_TEST_SQLITE_ONLY=1, or a CORM_TEST_DB that already names a
# PostgreSQL server, CMD runs as it is.  When the server cannot start, CMD
# still runs (its PostgreSQL part fails, saying why) and run fails.
run() {
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || die "usage: pg-test-server.sh run -- CMD..."
  case "${CORM_TEST_DB:-}" in postgres*) exec "$@" ;; esac
  [ "${CORM_TEST_SQLITE_ONLY:-}" = 1 ] && exec "$@"
  local env rc started=1
  RUN_DIR=$(mktemp -d /tmp/corm-pg.XXXXXX)
  trap 'stop "$RUN_DIR"' EXIT
  trap 'exit 130' INT TERM
  if env=$(start "$RUN_DIR"); then
    eval "export $(printf '%s' "$env" | tr '\n' ' ')"
  else
    started=0
    echo "pg-test-server: no PostgreSQL for the tests (see above)" >&2
  fi
  set +e
  "$@"
  rc=$?
  set -e
  [ $started -eq 1 ] || rc=1
  return $rc
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 start [DIR] | stop DIR | run -- CMD..." >&2; exit 2 ;;
esac
