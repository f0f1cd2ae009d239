#!/usr/bin/env bash
# Benchmark `harken analyze` (tokens + timeline + diagnosis) on ../shared/bench/gen_har.py
# output whose hosts are rewritten to Genesys Cloud API paths, so that thousands of 401/403
# go through the catalog: with the built-in profile and with --catalog on the 3,300-operation
# swagger (every invented path under /api/v2 is endpoint_unknown with a suggestion).
#
#   bash benches/diagnose.sh [SIZE_MB] [path/to/harken]    # default 100, target/release/harken
#
# Prints wall and user seconds and peak RSS per run. Files go to bench-out/ (git-ignored).
set -euo pipefail
SIZE=${1:-100}
BIN=${2:-target/release/harken}
SPEC=../shared/specs/genesys-cloud-api-v2.operations.swagger.json
mkdir -p bench-out
[ -f bench-out/b.har ] || python3 ../shared/bench/gen_har.py bench-out/b.har --size-mb "$SIZE"
sed -e 's#https://api.example.com/v1/#https://api.mypurecloud.com/api/v2/#g' \
    -e 's#https://orders.example.com/v1/#https://api.mypurecloud.com/api/v2/conversations/messaging/#g' \
    bench-out/b.har > bench-out/g.har
for args in "bench-out/b.har" "bench-out/g.har" "--catalog $SPEC bench-out/g.har"; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "analyze --format json $args: %e s wall, %U s user, %M KB" "$BIN" analyze --format json $args > /dev/null
done
