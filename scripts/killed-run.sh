#!/usr/bin/env bash
# Kills a test run mid-way and lists what it left behind (nothing, or it
# exits 1). Runs go test on cmd/openclaw-trace, the package that starts
# daemons, gateways, collectors, browsers and Prometheus, with TMPDIR set
# to a fresh directory; after DELAY seconds it records every descendant of
# go test, then kills the run:
#   SIGKILL  to the test binary (what the OOM killer or a CI runner does)
#   SIGINT   to go test's process group (Ctrl-C in a terminal)
# and, once go test has exited, looks for (1) any recorded descendant
# still running, (2) any process whose environment or command line names
# the directory, and (3) anything left in the directory.
#   scripts/killed-run.sh [SIGKILL|SIGINT] [DELAY, default 25] [go test args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-SIGKILL}
delay=${2:-25}
shift $(($# > 2 ? 2 : $#))
[ $# -gt 0 ] || set -- ./cmd/openclaw-trace/

top=$(mktemp -d /tmp/oct-killed.XXXXXX)
log=$top.log
# setsid: go test leads a process group of its own, as it does when run
# from a terminal, so SIGINT to the group is what Ctrl-C sends.
TMPDIR=$top setsid go test -count=1 -v "$@" >"$log" 2>&1 &
gopid=$!
echo "go test $* (pid $gopid), TMPDIR=$top, log $log; $mode after ${delay}s"

# stats: the /proc/PID/stat line of every process (one may end meanwhile).
stats() {
	local f line
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" && echo "$line"
	done
}

# field N LINE: field N of a stat line, counted after "pid (name)": 1 is
# the state, 2 the parent, 20 the start time.
field() { local rest=${2##*) }; set -- "$1" $rest; shift "$1"; echo "$1"; }

# descendants PID: "pid starttime name parent" of every process below PID.
descendants() {
	stats | awk -v root="$1" '
		{
			pid = $1; name = $0; sub(/^[0-9]+ \(/, "", name); sub(/\) [^)]*$/, "", name)
			rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
			ppid[pid] = f[2]; start[pid] = f[20]; comm[pid] = name
		}
		END {
			for (p in ppid) {
				q = p
				while ((q in ppid) && q != root && q + 0 > 1) q = ppid[q]
				if (q == root && p != root) print p, start[p], comm[p], ppid[p]
			}
		}'
}

# naming DIR: live processes whose environment or command line contains
# DIR (but this script's own greps).
naming() {
	local d line cmd
	for d in /proc/[0-9]*; do
		read -r line 2>/dev/null <"$d/stat" || continue
		[ "$(field 1 "$line")" != Z ] || continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
		case "$cmd" in "grep -qF $1"*) continue ;; esac
		if tr '\0' '\n' 2>/dev/null <"$d/environ" | grep -qF "$1" || [[ "$cmd" == *"$1"* ]]; then
			echo "${d#/proc/} ${cmd:0:120}"
		fi
	done
}

sleep "$delay"
testpid=
# the test binary: go test's child (its own child, the watchdog, has the same name)
testpid=$(descendants "$gopid" | awk -v go="$gopid" '$4 == go && $3 != "go" { print $1 }' | head -1)
[ -n "$testpid" ] || { echo "no test binary running after ${delay}s (the run ended?)"; tail -5 "$log"; exit 1; }
before=$(descendants "$gopid")
echo "running before the kill ($(echo "$before" | wc -l) processes below go test):"
echo "$before" | awk '{ print "  " $1, $3 }'
case "$mode" in
SIGKILL) kill -KILL "$testpid" ;;
SIGINT) kill -INT -- "-$gopid" ;;
*) echo "mode: SIGKILL or SIGINT"; exit 2 ;;
esac
for _ in $(seq 600); do kill -0 "$gopid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$gopid" 2>/dev/null; then echo "go test still running 2 min after the kill"; exit 1; fi
echo "go test exited: $(tail -1 "$log")"

left=0
while read -r pid start name _; do
	[ -n "$pid" ] || continue
	read -r line 2>/dev/null <"/proc/$pid/stat" || continue
	if [ "$(field 20 "$line")" = "$start" ] && [ "$(field 1 "$line")" != Z ]; then
		echo "LEFT RUNNING: pid $pid ($name)"
		left=1
	fi
done <<<"$before"
if found=$(naming "$top") && [ -n "$found" ]; then
	echo "LEFT RUNNING, naming $top:"
	echo "$found"
	left=1
fi
if [ -n "$(ls -A "$top")" ]; then
	echo "LEFT IN $top:"
	find "$top" -maxdepth 3 | head -20
	left=1
fi
grep '^reap: ' "$log" || true
if [ "$left" = 0 ]; then
	echo "nothing left behind: no process of the run, $top empty"
	rmdir "$top"
fi
exit "$left"
