#!/usr/bin/env bash
# Measured resource check of the release binary (static, stripped):
#   1. idle: RSS after IDLE_SECONDS (60) with the system sampler at 1 s, and
#      CPU over that time (utime+stime from /proc/<pid>/stat); budget 20 MB RSS
#   2. push: peak RSS (VmHWM, reset just before) while 1,000 rows are pushed
#      to a local mock receiver; budget 30 MB
#   3. load: peak RSS during oct-load's sustained datagram load (LOAD_RATE,
#      default 5000/s, for LOAD_SECONDS, default 30) over the unix socket; reported
# Exits 1 if a budget is exceeded. Not run in CI (it takes ~2.5 minutes).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
IDLE_SECONDS=${IDLE_SECONDS:-60}
LOAD_RATE=${LOAD_RATE:-5000}
LOAD_SECONDS=${LOAD_SECONDS:-30}
MB=1000000 # budgets are in MB (10^6 bytes); figures are printed in MiB too
fail=0
budget() { # name kB limit_MB
	local bytes=$(($2 * 1024))
	if [ "$bytes" -le $(($3 * MB)) ]; then echo "PASS $1: $(mib "$2") MiB ($bytes bytes) <= $3 MB"; else
		echo "FAIL $1: $(mib "$2") MiB ($bytes bytes) > $3 MB"; fail=1; fi
}

build
hz=$(getconf CLK_TCK)

echo "== 1. idle, sampler at 1 s, ${IDLE_SECONDS}s"
start_daemon OCT_METRICS_INTERVAL=1s
t0=$(cpu_ticks)
sleep "$IDLE_SECONDS"
t1=$(cpu_ticks)
rss=$(status_kb VmRSS)
echo "RSS $(mib "$rss") MiB, peak $(mib "$(status_kb VmHWM)") MiB, $(goroutines) goroutines, $(status_kb Threads) threads, $(fds) fds"
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$IDLE_SECONDS" \
	'BEGIN {printf "CPU %.2f s over %d s = %.3f%% of one core\n", d / hz, s, 100 * d / hz / s}'
budget "idle RSS" "$rss" 20
stop_daemon

echo "== 2. push of 1,000 rows to a local receiver"
start_receiver
start_daemon OCT_METRICS_INTERVAL=0 OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=10s
"$WORK/oct-load" -transport http -url "$URL" -rate 1000 -duration 1s -settle 5s | grep -E '^(sent|daemon units|lost)'
before=$(status_kb VmHWM)
reset_hwm
for _ in $(seq 300); do [ "$(receiver_rows)" -ge 1000 ] && break; sleep 0.1; done
echo "receiver rows $(receiver_rows); peak RSS before the push (intake of 1,000 over HTTP) $(mib "$before") MiB"
budget "push peak RSS (VmHWM during the push)" "$(status_kb VmHWM)" 30
stop_daemon

echo "== 3. sustained datagram load: $LOAD_RATE/s for ${LOAD_SECONDS}s over the unix socket"
start_daemon OCT_METRICS_INTERVAL=1s
"$WORK/oct-load" -transport unixgram -socket "$SOCK" -url "$URL" -rate "$LOAD_RATE" \
	-duration "${LOAD_SECONDS}s" -settle 30s -db "$DB" -pid "$DAEMON_PID"
echo "load peak RSS (VmHWM since start): $(mib "$(status_kb VmHWM)") MiB"
stop_daemon
exit "$fail"
