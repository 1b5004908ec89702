#!/usr/bin/env bash
# Fault replay: the scenarios of issue 21 against the release binary, each
# on a fresh daemon, printing what happened to the data and the peak RSS:
#   1. full disk: an 8 MiB tmpfs for OCT_DB_PATH, ~12 MB of traces posted,
#      push to a receiver answering 503 (so deleted rows are evicted, not
#      relieved), then 24 MB from 6 clients at once; then a restart on the
#      volume filled to the last byte
#   2. a push body the receiver refuses (400) for one bad row among 3,112
#   3. a receiver down (503) for 3 push cycles, then back (200)
#   4. an HTTP body with more events than OCT_QUEUE_SIZE
#   5. 10,000 idle connections that never send their bodies
#   6. ~20,000 connections (as many as the client's file limit allows)
#   7. 8 clients posting ~800 KB traces of 50,000 metadata keys for 20 s
#   8. doors: a foreign Host, framing headers, a non-loopback bind, a secret
#      in a bad variable
#   9. numbers: ts in seconds, ts at int64 max, client_stats near int64 max twice
# Needs go, python3, curl; scenario 1 needs root (mount) and is skipped
# without it, saying so. Takes ~4 minutes.
#   scripts/faults.sh            # all
#   scripts/faults.sh 1 4        # some
#   FAULTS_BIN=/path/to/openclaw-trace scripts/faults.sh   # another build
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
FAULTS="$ROOT/scripts/faults.py"
MB=1000000
export OCT_METRICS_INTERVAL=0 # no system samples: the counts are the scenario's own
trap 'umount -l "$WORK/vol" 2>/dev/null || true; cleanup' EXIT

# try_daemon KEY=VALUE...: start_daemon that returns 1, printing the
# daemon's last line, instead of ending the script when it does not start.
try_daemon() {
	DDIR=$(mktemp -d "$WORK/daemon.XXXX")
	DB=$DDIR/trace.db SOCK=$DDIR/oct.sock
	env OCT_DB_PATH="$DB" OCT_SOCKET_PATH="$SOCK" OCT_UDP_ADDR= OCT_PORT=0 \
		"$@" "$WORK/openclaw-trace" >"$DDIR/daemon.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	local addr=""
	for _ in $(seq 200); do
		addr=$(sed -n '/"transport":"http"/s/.*"addr":"\([^"]*\)".*/\1/p' "$DDIR/daemon.log" | head -1)
		[ -n "$addr" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$addr" ]; then
		echo "daemon did not start: $(tail -1 "$DDIR/daemon.log" | cut -c1-200)"
		return 1
	fi
	URL="http://$addr"
}

# metric NAME: a sample of /metrics ("" when absent).
metric() { curl -s "$URL/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
counters() { python3 "$FAULTS" counters "$URL"; }
rfield() { python3 "$FAULTS" field "$RECEIVER/stats" "$@"; }
peak() { echo "peak RSS $(mib "$(status_kb VmHWM)") MiB ($(($(status_kb VmHWM) * 1024)) bytes; budget 30 MB = $((30 * MB)))"; }
# traces N [MODEL] [PAD]: a JSON array of N traces with PAD bytes of input_text.
traces() { python3 -c "import json,sys; print(json.dumps([{'provider':'openai','model':sys.argv[2],'input_text':'x'*int(sys.argv[3])} for _ in range(int(sys.argv[1]))]))" "$1" "${2:-gpt-4o}" "${3:-0}"; }
post_file() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$2" "$URL$1"; }
wait_until() { # SECONDS CMD...: polls CMD every 0.2 s; 0 once it succeeds
	local end=$(($(date +%s) + $1)); shift
	until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done
}
rows_at_least() { [ "$(rfield rows)" -ge "$1" ]; }
failed_cycles_at_least() { [ "$(metric openclaw_trace_push_cycles_failed_total)" -ge "$1" ] 2>/dev/null; }
disk_not_full() { [ "$(metric openclaw_trace_disk_full)" = 0 ]; }
settled() { curl -s "$URL/health" | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; sys.exit(0 if c["queue_depth"]==0 and c["received"]==c["written"]+c["dropped"]-c["evicted"] else 1)'; }

# disk_line VOL: the disk_full gauge, the reserve and the volume's free space.
disk_line() {
	echo "disk_full gauge $(metric openclaw_trace_disk_full), reserve $(metric openclaw_trace_disk_reserve_bytes) bytes, $(df --output=pcent "$1" | tail -1 | tr -d ' ') of the volume used, $(df --output=avail -B1024 "$1" | tail -1 | tr -d ' ') KiB free"
}

scenario_1() {
	echo "== 1. full disk: 8 MiB tmpfs, ~12 MB posted, push failing (503)"
	local vol="$WORK/vol"
	mkdir -p "$vol"
	if ! mount -t tmpfs -o size=8m tmpfs "$vol" 2>"$WORK/mount.err"; then
		echo "SKIPPED: cannot mount a tmpfs ($(cat "$WORK/mount.err")); run as root"
		return
	fi
	start_receiver
	curl -s -X POST -d '{"status": 503}' "$RECEIVER/control" >/dev/null
	start_daemon OCT_DB_PATH="$vol/trace.db" OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=2s
	traces 100 gpt-4o 4000 >"$WORK/batch.json"
	local codes="" t0
	t0=$(date +%s.%N)
	for _ in $(seq 30); do codes+=" $(post_file /v1/traces "$WORK/batch.json")"; done
	echo "posted 30 x 100 traces of 4 KB (12 MB) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s; answers:$(for c in $codes; do echo "$c"; done | sort | uniq -c | awk '{printf " %s x%s", $2, $1}')"
	wait_until 30 settled || echo "(not settled after 30 s)"
	counters
	disk_line "$vol"
	peak
	# Full intake: 6 clients at once (the writer then outpaces the WAL
	# monitor's checkpoints), then 2 traces that must be written.
	t0=$(date +%s.%N)
	codes=$(seq 60 | xargs -P 6 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		--data-binary "@$WORK/batch.json" "$URL/v1/traces")
	echo "then 60 x 100 traces (24 MB) from 6 clients at once in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s; answers:$(for c in $codes; do echo "$c"; done | sort | uniq -c | awk '{printf " %s x%s", $2, $1}')"
	wait_until 30 settled || echo "(not settled after 30 s)"
	wait_until 20 disk_not_full || echo "(disk_full gauge still 1 after 20 s)"
	traces 2 >"$WORK/two.json"
	echo "POST 2 traces: $(post_file /v1/traces "$WORK/two.json")"
	wait_until 10 settled || true
	counters
	disk_line "$vol"
	peak
	stop_daemon >/dev/null
	head -c 100000000 /dev/zero >"$vol/filler" 2>/dev/null || true
	echo "restart on the volume filled to the last byte by another file ($(df --output=avail -B1 "$vol" | tail -1 | tr -d ' ') bytes free):"
	if ! try_daemon OCT_DB_PATH="$vol/trace.db" OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=2s; then
		umount -l "$vol"
		return
	fi
	wait_until 20 disk_not_full || true
	echo "POST 2 traces: $(post_file /v1/traces "$WORK/two.json")"
	wait_until 10 settled || true
	counters
	disk_line "$vol"
	grep -o '"msg":"[^"]*reserve[^"]*"' "$DDIR/daemon.log" | sort | uniq -c || true
	stop_daemon >/dev/null
	umount "$vol"
}

scenario_2() {
	echo "== 2. one row the receiver refuses: 1,111 good rows, 1 bad, 2,000 after, in push bodies of up to 64 KB"
	start_receiver --reject-model poison
	start_daemon OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=2s OCT_PUSH_MAX_BYTES=65536
	traces 1111 >"$WORK/a.json"
	traces 1 poison >"$WORK/b.json"
	traces 1000 >"$WORK/c.json"
	echo "posts: $(post_file /v1/traces "$WORK/a.json") $(post_file /v1/traces "$WORK/b.json") $(post_file /v1/traces "$WORK/c.json") $(post_file /v1/traces "$WORK/c.json")"
	wait_until 40 rows_at_least 3111 || echo "(the receiver did not get the 3,111 good rows within 40 s)"
	echo "receiver: $(python3 "$FAULTS" receiver "$RECEIVER")"
	echo "daemon: unsynced $(health_field "['unsynced_count']"), last push status: $(health_field "['last_push_status']")"
	stop_daemon >/dev/null
	echo "after the final push at SIGTERM: $(python3 "$FAULTS" receiver "$RECEIVER")"
}

scenario_3() {
	echo "== 3. receiver down (503) for 3 push cycles, then back"
	start_receiver
	curl -s -X POST -d '{"status": 503}' "$RECEIVER/control" >/dev/null
	start_daemon OCT_PUSH_ENDPOINT="$RECEIVER/v1/ingest" OCT_PUSH_INTERVAL=2s
	traces 100 >"$WORK/a.json"
	post_file /v1/traces "$WORK/a.json" >/dev/null
	wait_until 120 failed_cycles_at_least 3 || echo "(fewer than 3 failed cycles in 120 s)"
	echo "failed cycles $(metric openclaw_trace_push_cycles_failed_total), status: $(health_field "['last_push_status']"); receiver back at 200"
	curl -s -X POST -d '{"status": 200}' "$RECEIVER/control" >/dev/null
	if wait_until 60 rows_at_least 100; then
		echo "delivered $(rfield rows) rows (duplicates $(rfield duplicates)) $(rfield first_ok_after_control_ms) ms after the receiver came back (push interval 2 s)"
	else
		echo "NOT delivered within 60 s of the receiver coming back (push interval 2 s): $(rfield rows) rows; skipped cycles $(metric openclaw_trace_push_cycles_skipped_total)"
	fi
	stop_daemon >/dev/null
}

scenario_4() {
	echo "== 4. a body with more events than OCT_QUEUE_SIZE=100"
	start_daemon OCT_QUEUE_SIZE=100
	traces 101 >"$WORK/a.json"
	for i in 1 2; do
		echo "try $i: $(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary "@$WORK/a.json" "$URL/v1/traces")"
	done
	counters
	stop_daemon >/dev/null
}

scenario_5() {
	echo "== 5. 10,000 idle connections that never send their bodies"
	start_daemon
	echo "before: RSS $(mib "$(status_kb VmRSS)") MiB"
	python3 "$FAULTS" conns "$URL" 10000 10 slow
	echo "connection waits $(metric openclaw_trace_http_connection_waits_total), fds $(fds), goroutines $(goroutines)"
	peak
	stop_daemon >/dev/null
}

scenario_6() {
	local n=$(($(ulimit -n) - 100))
	[ "$n" -gt 20000 ] && n=20000
	echo "== 6. $n connections (the client's file limit is $(ulimit -n))"
	start_daemon
	python3 "$FAULTS" conns "$URL" "$n" 10
	echo "connection waits $(metric openclaw_trace_http_connection_waits_total); accept errors logged: $(grep -c 'Accept error' "$DDIR/daemon.log" || true)"
	peak
	stop_daemon >/dev/null
}

scenario_7() {
	echo "== 7. 8 clients posting traces of 50,000 metadata keys for 20 s"
	start_daemon
	python3 "$FAULTS" bigmeta "$URL" 8 20 50000
	wait_until 30 settled || true
	counters
	echo "metadata trimmed $(metric openclaw_trace_metadata_trimmed_total) events, $(metric openclaw_trace_metadata_keys_dropped_total) keys dropped; busy (429) $(metric openclaw_trace_http_busy_total)"
	echo "largest stored metadata: $(python3 -c "import sqlite3,sys; print(sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True).execute('select max(length(metadata)) from llm_traces').fetchone()[0])" "$DB") bytes"
	peak
	stop_daemon >/dev/null
}

scenario_8() {
	echo "== 8. doors"
	start_daemon
	for p in /v1/summary /health /ui; do
		echo "GET $p with Host evil.example: $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$URL$p")"
	done
	echo "POST /v1/traces with Host evil.example: $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' -H 'Content-Type: application/json' -d '{"provider":"p","model":"m"}' "$URL/v1/traces")"
	echo "/ui framing headers: $(curl -s -D - -o /dev/null "$URL/ui" | grep -iE '^x-frame-options' | tr -d '\r'); CSP has frame-ancestors: $(curl -s -D - -o /dev/null "$URL/ui" | grep -ic "frame-ancestors 'none'")"
	stop_daemon >/dev/null
	local out
	local code=0
	out=$(OCT_BIND=0.0.0.0 OCT_PORT=0 OCT_SOCKET_PATH= OCT_UDP_ADDR= OCT_DB_PATH="$WORK/x.db" timeout 5 "$WORK/openclaw-trace" 2>&1) || code=$?
	if [ "$code" = 124 ]; then
		echo "OCT_BIND=0.0.0.0 without a token: served for 5 s (stopped by timeout), lines about loopback: $(echo "$out" | grep -c 'loopback')"
	else
		echo "OCT_BIND=0.0.0.0 without a token: exit $code: $out"
	fi
	out=$(OTEL_EXPORTER_OTLP_HEADERS='Authorization=Basic%20SECRET,bad' OCT_DB_PATH="$WORK/x.db" timeout 5 "$WORK/openclaw-trace" 2>&1) || true
	echo "bad OTEL_EXPORTER_OTLP_HEADERS: $out (secret printed: $(echo "$out" | grep -c SECRET || true))"
}

scenario_9() {
	echo "== 9. numbers"
	start_daemon OCT_UDP_ADDR=127.0.0.1:0
	echo "ts in seconds: $(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"provider":"p","model":"m","ts":1764944000}' "$URL/v1/traces")"
	echo "ts at int64 max: $(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"provider":"p","model":"m","ts":9223372036854775807}' "$URL/v1/traces")"
	echo "cost 1e999: $(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"provider":"p","model":"m","cost_usd":1e999}' "$URL/v1/traces")"
	echo "misspelt field: $(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"provider":"p","model":"m","promt_tokens":5}' "$URL/v1/traces" | cut -c1-40)... unknown_fields_total{promt_tokens} $(metric 'openclaw_trace_unknown_fields_total{field="promt_tokens"}')"
	local udp
	udp=$(sed -n 's/.*"msg":"udp socket listening".*"addr":"\([^"]*\)".*/\1/p' "$DDIR/daemon.log" | head -1)
	for _ in 1 2; do
		python3 -c "import socket,sys; h,p=sys.argv[1].rsplit(':',1); socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'{\"type\":\"client_stats\",\"client\":\"node\",\"dropped\":9223372036854775806}', (h, int(p)))" "$udp"
	done
	sleep 0.5
	echo "client_stats dropped=int64 max-1, twice: client_reported_drops_total $(metric openclaw_trace_client_reported_drops_total)"
	stop_daemon >/dev/null
}

if [ -n "${FAULTS_BIN:-}" ]; then # another build, e.g. an older one to compare
	cp "$FAULTS_BIN" "$WORK/openclaw-trace"
	echo "binary: $FAULTS_BIN"
else
	build
fi
for s in "${@:-1 2 3 4 5 6 7 8 9}"; do
	for n in $s; do
		"scenario_$n"
		for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
		PIDS=()
	done
done
