# shellcheck shell=bash
# Shared by resources.sh and soak.sh: build the release binary and the load
# tool, start the mock receiver and the daemon, read /proc figures.
# Sourced, not run. Needs go, python3, curl.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oct-bench.XXXXXX")
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# build: the binary as released (static, stripped) and oct-load.
build() {
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=bench" \
		-o "$WORK/openclaw-trace" ./cmd/openclaw-trace &&
		CGO_ENABLED=0 go build -o "$WORK/oct-load" ./cmd/oct-load)
	echo "binary: $(stat -c %s "$WORK/openclaw-trace") bytes"
}

# start_receiver [--reject-model NAME]: the mock push API; sets RECEIVER (base URL).
start_receiver() {
	rm -f "$WORK/receiver.port"
	python3 "$ROOT/scripts/receiver.py" "$WORK/receiver.port" "$@" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$WORK/receiver.port" ] && break; sleep 0.05; done
	RECEIVER="http://127.0.0.1:$(cat "$WORK/receiver.port")"
}

# start_daemon KEY=VALUE...: runs the daemon with a fresh DB and socket in a
# new directory; sets DAEMON_PID, DDIR, DB, SOCK and URL (read from its
# "listening" log line).
start_daemon() {
	DDIR=$(mktemp -d "$WORK/daemon.XXXX")
	DB=$DDIR/trace.db SOCK=$DDIR/oct.sock
	env OCT_DB_PATH="$DB" OCT_SOCKET_PATH="$SOCK" OCT_UDP_ADDR= OCT_PORT=0 \
		"$@" "$WORK/openclaw-trace" >"$DDIR/daemon.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	for _ in $(seq 200); do
		addr=$(sed -n '/"transport":"http"/s/.*"addr":"\([^"]*\)".*/\1/p' "$DDIR/daemon.log" | head -1)
		[ -n "$addr" ] && break
		sleep 0.05
	done
	[ -n "$addr" ] || { cat "$DDIR/daemon.log"; echo "daemon did not start" >&2; exit 1; }
	URL="http://$addr"
}

# stop_daemon: SIGTERM, wait, and print its final log line.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	if wait "$DAEMON_PID"; then echo "daemon exited 0 after SIGTERM"; else echo "daemon exited $?"; fi
	grep '"msg":"stopped"' "$DDIR/daemon.log" || true
}

# status_kb FIELD: a field of /proc/$DAEMON_PID/status, in kB (VmRSS, VmHWM) or a count (Threads).
status_kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$DAEMON_PID/status"; }
fds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
goroutines() { curl -s "$URL/metrics" | awk '$1 == "go_goroutines" {print $2}'; }
# cpu_ticks: utime + stime of the daemon, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
health_field() { curl -s "$URL/health" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# reset_hwm: restart VmHWM (peak RSS) from the current RSS (Linux >= 4.0).
reset_hwm() { echo 5 >"/proc/$DAEMON_PID/clear_refs"; }
receiver_rows() { curl -s "$RECEIVER/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
