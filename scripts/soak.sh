#!/usr/bin/env bash
# Soak: steady moderate load for SOAK_SECONDS (default 600) over the unix
# datagram socket with the sampler at 1 s and a push to a local mock
# receiver every 30 s; every 10 s prints RSS, peak RSS, goroutines, threads,
# open fds, queue depth and unsynced rows. Flat columns mean no leak.
# Not run in CI (it takes 10 minutes).
#   scripts/soak.sh                      # 600 s at 500 events/s
#   SOAK_SECONDS=120 SOAK_RATE=1000 scripts/soak.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
SECONDS_TOTAL=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-500}

build
start_receiver
start_daemon OCT_METRICS_INTERVAL=1s OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=30s
echo "daemon pid $DAEMON_PID at $URL, receiver $RECEIVER, $RATE events/s for ${SECONDS_TOTAL}s"

"$WORK/oct-load" -transport unixgram -socket "$SOCK" -url "$URL" -rate "$RATE" \
	-duration "${SECONDS_TOTAL}s" -settle 10s -db "$DB" >"$WORK/load.txt" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")

printf '%6s %9s %9s %10s %7s %4s %6s %9s %9s\n' t_s rss_mib hwm_mib goroutines threads fds queue unsynced pushed
start=$(date +%s)
while :; do
	t=$(($(date +%s) - start))
	printf '%6d %9s %9s %10s %7s %4s %6s %9s %9s\n' "$t" "$(mib "$(status_kb VmRSS)")" "$(mib "$(status_kb VmHWM)")" \
		"$(goroutines)" "$(status_kb Threads)" "$(fds)" "$(health_field "['queue_depth']")" \
		"$(health_field "['unsynced_count']")" "$(receiver_rows)"
	[ "$t" -ge "$SECONDS_TOTAL" ] && break
	sleep 10
done
wait "$LOAD_PID" || true
echo "--- oct-load"
cat "$WORK/load.txt"
echo "--- shutdown"
stop_daemon
echo "--- receiver (after the final push at SIGTERM)"
curl -s "$RECEIVER/stats"; echo
