#!/usr/bin/env bash
# A Ballista cluster on this machine: one scheduler and two executors as
# separate processes (churnwise-ballista), and the SQL pipeline example run
# against it with --remote. The example compares every value with the
# in-process pipeline and exits non-zero on any difference.
#
#   scripts/ballista-localhost.sh [extra example arguments, e.g. --orders 1000000]
#
# Environment: PORT_BASE (default 50350: scheduler PORT_BASE, executors
# PORT_BASE+1..+4); PROFILE=debug builds and runs the debug binaries
# (default release); KEEP_LOGS=1 keeps the work directory with the logs.
set -euo pipefail

cd "$(dirname "$0")/.."
PORT_BASE=${PORT_BASE:-50350}
SCHEDULER_PORT=$PORT_BASE
WORK=$(mktemp -d "${TMPDIR:-/tmp}/churnwise-ballista.XXXXXX")
PIDS=""

stop() {
    status=$?
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $PIDS; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        echo "ballista-localhost: failed (exit $status); process logs:" >&2
        for log in "$WORK"/*.log; do
            [ -f "$log" ] || continue
            echo "--- $log (last 20 lines)" >&2
            tail -n 20 "$log" >&2
        done
    fi
    if [ "${KEEP_LOGS:-0}" = 1 ]; then
        echo "ballista-localhost: logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

PROFILE=${PROFILE:-release}
case "$PROFILE" in
    release) PROFILE_FLAG=--release ;;
    debug) PROFILE_FLAG= ;;
    *)
        echo "ballista-localhost: PROFILE must be release or debug, got '$PROFILE'" >&2
        exit 2
        ;;
esac

started=$(date +%s)
echo "== building churnwise-ballista and the sql_pipeline example ($PROFILE)"
# shellcheck disable=SC2086 # PROFILE_FLAG is empty or one word
cargo build $PROFILE_FLAG -p churnwise-datafusion --all-features \
    --bin churnwise-ballista --example sql_pipeline
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN="$TARGET_DIR/$PROFILE/churnwise-ballista"
EXAMPLE="$TARGET_DIR/$PROFILE/examples/sql_pipeline"
built=$(date +%s)

# Waits until something listens on 127.0.0.1:$1 (bash's /dev/tcp), or fails
# after $2 seconds; $3 is the pid that must stay alive meanwhile.
wait_port() {
    i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        if ! kill -0 "$3" 2>/dev/null; then
            echo "ballista-localhost: the process for port $1 exited" >&2
            return 1
        fi
        i=$((i + 1))
        if [ "$i" -gt $(($2 * 10)) ]; then
            echo "ballista-localhost: nothing listens on port $1 after $2 s" >&2
            return 1
        fi
        sleep 0.1
    done
}

echo "== scheduler on 127.0.0.1:$SCHEDULER_PORT"
"$BIN" scheduler --bind-host 127.0.0.1 --port "$SCHEDULER_PORT" \
    >"$WORK/scheduler.log" 2>&1 &
SCHEDULER_PID=$!
PIDS="$SCHEDULER_PID"
wait_port "$SCHEDULER_PORT" 30 "$SCHEDULER_PID"

for n in 1 2; do
    port=$((PORT_BASE + 2 * n - 1))
    grpc=$((PORT_BASE + 2 * n))
    echo "== executor $n on 127.0.0.1:$port (grpc $grpc), 1 task slot"
    "$BIN" executor --bind-host 127.0.0.1 --external-host 127.0.0.1 \
        --port "$port" --grpc-port "$grpc" \
        --scheduler-host 127.0.0.1 --scheduler-port "$SCHEDULER_PORT" \
        --work-dir "$WORK/executor-$n" --concurrency 1 \
        >"$WORK/executor-$n.log" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    wait_port "$port" 30 "$pid"
done

echo "== sql_pipeline --remote df://127.0.0.1:$SCHEDULER_PORT $*"
"$EXAMPLE" --remote "df://127.0.0.1:$SCHEDULER_PORT" "$@"
finished=$(date +%s)
echo "== ok: build $((built - started)) s, cluster run $((finished - built)) s"
