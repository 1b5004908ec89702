#!/usr/bin/env bash
# Regenerates codec/price/prices.json.gz from @pydantic/genai-prices on npm.
# Usage: scripts/prices.sh [VERSION]   (default: the version the table has now)
# Then update the version and date in codec/price/README.md and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$( (zcat codec/price/prices.json.gz || true) | head -c 400 | sed -n 's/.*"package":"@pydantic\/genai-prices@\([^"]*\)".*/\1/p')}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@pydantic/genai-prices@${version:-latest}" >/dev/null && tar xzf ./*.tgz)
node scripts/prices.mjs "$tmp/package" codec/price/prices.json.gz
# The data is MIT-licensed: its licence travels with it.
cp "$tmp/package/LICENSE" codec/price/LICENSE.genai-prices
