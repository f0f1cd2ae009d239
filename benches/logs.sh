#!/usr/bin/env bash
# Access-log benchmark: MB/s and peak memory of `harken exchanges --format ndjson` and
# `harken analyze --format json` on a generated nginx combined log, plain and gzipped.
# Usage: nice -n 19 benches/logs.sh [SIZE_MB]   (default 1000). Output under bench-out/.
# Compare with `wc -l` and `zcat` (the floor of reading the bytes at all).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1000}"
out=bench-out
mkdir -p "$out"
log="$out/nginx-${size}mb.log"
if [ ! -f "$log" ]; then
  python3 benches/gen_nginx_log.py "$log" --size-mb "$size" --seed 1
fi
[ -f "$log.gz" ] || gzip -1 -k "$log"
cargo build --release --quiet
bytes=$(stat -c %s "$log")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); file: $log ($((bytes / 1000000)) MB, $(stat -c %s "$log.gz" | awk '{printf "%d", $1/1e6}') MB gzipped)"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
  read -r secs kb < "$out/time.txt"
  awk -v l="$label" -v s="$secs" -v k="$kb" -v b="$bytes" \
    'BEGIN { printf "%-44s %7.2f s %7.0f MB/s  peak RSS %6.0f MB\n", l, s, b / 1e6 / s, k / 1024 }'
}

measure "wc -l (plain)" wc -l "$log"
measure "zcat (gzip)" zcat "$log.gz"
measure "harken exchanges --format ndjson (plain)" target/release/harken exchanges --format ndjson "$log"
measure "harken exchanges --format ndjson (gzip)" target/release/harken exchanges --format ndjson "$log.gz"
measure "harken exchanges --status 401,403 (plain)" target/release/harken exchanges --status 401,403 --format ndjson "$log"
measure "harken analyze --format json (plain)" target/release/harken analyze --format json "$log"
measure "harken analyze --format json (gzip)" target/release/harken analyze --format json "$log.gz"
