#!/usr/bin/env bash
# A throwaway Redis for the cache tests: one redis-server listening only on
# a unix socket in a temporary directory (no TCP port, no persistence),
# stopped by its pid.
#
#   tools/redis-test-server.sh run -- CMD...   start, run CMD with
#                                              CORM_TEST_REDIS=unix:DIR/redis.sock,
#                                              stop (always); CMD's status
# A CORM_TEST_REDIS of your own is used instead of starting one.  The
# server comes from tools/deps.sh cache when redis-server is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "redis-test-server: $*" >&2; exit 1; }

[ "${1:-}" = run ] || { echo "usage: $0 run -- CMD..." >&2; exit 2; }
shift
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || die "usage: redis-test-server.sh run -- CMD..."
[ -n "${CORM_TEST_REDIS:-}" ] && exec "$@"
command -v redis-server >/dev/null 2>&1 || "$here/deps.sh" cache >&2 || die "could not install redis-server (tools/deps.sh cache)"

DIR=$(mktemp -d /tmp/corm-redis.XXXXXX)
PID=
stop() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM
redis-server --port 0 --unixsocket "$DIR/redis.sock" --unixsocketperm 700 --dir "$DIR" \
  --save '' --appendonly no --logfile "$DIR/redis.log" &
PID=$!
# the socket file appears at bind(), before listen(): ready is a PING answered
ready() { [ -S "$DIR/redis.sock" ] && redis-cli -s "$DIR/redis.sock" ping 2>/dev/null | grep -q PONG; }
for _ in $(seq 400); do ready && break; sleep 0.05; done
ready || { cat "$DIR/redis.log" >&2 || true; die "redis-server did not start"; }
export CORM_TEST_REDIS="unix:$DIR/redis.sock"
set +e
"$@"
rc=$?
set -e
exit $rc
