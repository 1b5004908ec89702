#!/usr/bin/env bash
# start.sh — run openclaw-trace beside the OpenClaw gateway in one container
# (use it as the ENTRYPOINT/CMD when the gateway image is the base).
#
# The sidecar starts first, in the background; the gateway second. SIGTERM
# or SIGINT to this script (PID 1 on Fly.io and Docker) is forwarded to both
# as SIGTERM; the script waits for both and exits with the gateway's status.
# The sidecar drains its queue and pushes within OCT_SHUTDOWN_TIMEOUT (25 s
# by default), inside Fly's kill_timeout = 30.
#
# Environment (besides the sidecar's own OCT_* variables):
#   OCT_BIN         sidecar binary (default: openclaw-trace on PATH)
#   GATEWAY_CMD     gateway command line, shell syntax (default: "openclaw gateway")
#   OCT_DGRAM_QLEN  raise net.unix.max_dgram_qlen to at least this (default 512) when allowed
set -u

OCT_BIN=${OCT_BIN:-openclaw-trace}
GATEWAY_CMD=${GATEWAY_CMD:-openclaw gateway}
OCT_DGRAM_QLEN=${OCT_DGRAM_QLEN:-512}
socket=${OCT_SOCKET_PATH-/run/openclaw-trace.sock}

log() { echo "start.sh: $*" >&2; }

# The unix datagram queue is 10 by default: senders drop (EAGAIN) in bursts.
# The kernel reads it when the socket is created, so raise it first. Needs a
# writable /proc/sys (root in a VM like Fly's; Docker: --sysctl instead).
qlen=/proc/sys/net/unix/max_dgram_qlen
if [ -n "$socket" ] && [ -r "$qlen" ] && [ "$(cat "$qlen")" -lt "$OCT_DGRAM_QLEN" ]; then
	if (echo "$OCT_DGRAM_QLEN" >"$qlen") 2>/dev/null; then
		log "net.unix.max_dgram_qlen raised to $OCT_DGRAM_QLEN"
	else
		log "cannot raise net.unix.max_dgram_qlen ($(cat "$qlen")); senders may drop datagrams in bursts"
	fi
fi
[ -n "$socket" ] && mkdir -p "$(dirname "$socket")"

# The sidecar sets its own soft memory limit (GOMEMLIMIT, 18 MiB unless set).
"$OCT_BIN" &
oct_pid=$!
# Give the sidecar a moment to bind, so the gateway's first datagrams are
# not refused; never hold the gateway back for long.
for _ in $(seq 50); do
	if [ -z "$socket" ] || [ -S "$socket" ] || ! kill -0 "$oct_pid" 2>/dev/null; then break; fi
	sleep 0.1
done
kill -0 "$oct_pid" 2>/dev/null || log "openclaw-trace exited at start; the gateway runs without tracing"

# exec: the gateway keeps the subshell's pid, so signals reach it directly.
(eval "exec $GATEWAY_CMD") &
gw_pid=$!

stopping=
# shellcheck disable=SC2317 # called by the trap
stop() {
	[ -n "$stopping" ] && return
	stopping=1
	log "stopping gateway ($gw_pid) and openclaw-trace ($oct_pid)"
	kill -TERM "$gw_pid" "$oct_pid" 2>/dev/null
}
trap stop TERM INT

# wait returns early when a trapped signal arrives; keep waiting while the
# process is still there (a zombie counts, so its status is not missed).
wait_for() {
	local status
	while :; do
		wait "$1"
		status=$?
		kill -0 "$1" 2>/dev/null || return "$status"
	done
}

wait_for "$gw_pid"
gw_status=$?
# A second SIGTERM would cut the sidecar's drain short (it exits at once
# on a second signal), so only signal it if nobody has yet.
if [ -z "$stopping" ]; then
	stopping=1
	log "gateway exited with status $gw_status; stopping openclaw-trace"
	kill -TERM "$oct_pid" 2>/dev/null
fi
wait_for "$oct_pid"
oct_status=$?
[ "$oct_status" -eq 0 ] || log "openclaw-trace exited with status $oct_status"
exit "$gw_status"
