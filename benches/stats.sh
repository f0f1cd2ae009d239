#!/usr/bin/env bash
# `harken stats` against `harken exchanges --format ndjson` on large generated HARs: wall time,
# MB/s and peak RSS (the target: stats within 1.3x the time of exchanges, and its memory flat
# in the input size: it keeps groups, not exchanges).
# Usage: benches/stats.sh [SIZE_MB...]   (default: 200 1000). Needs python3 and
# ../shared/bench/gen_har.py. The machine may be shared: runs under nice -n 19, best of 3.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 1000)
out=bench-out
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/harken
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # label, bytes, command... ; best wall of 3, with its peak RSS
  local label=$1 bytes=$2; shift 2
  local best="" rss=""
  for _ in 1 2 3; do
    nice -n 19 /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
    read -r secs kb < "$out/time.txt"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$secs; rss=$kb; fi
  done
  awk -v l="$label" -v s="$best" -v k="$rss" -v b="$bytes" \
    'BEGIN { printf "%-52s %6.2f s %6.0f MB/s  peak RSS %6.0f MB\n", l, s, b / 1e6 / s, k / 1024 }'
  echo "$best" > "$out/last.txt"
}

for size in "${sizes[@]}"; do
  har="$out/bench-${size}mb.har"
  [ -f "$har" ] || nice -n 19 python3 ../shared/bench/gen_har.py "$har" --size-mb "$size" --seed 1
  bytes=$(stat -c %s "$har")
  echo "== $har ($((bytes / 1000000)) MB)"
  measure "harken exchanges --format ndjson" "$bytes" "$bin" exchanges --format ndjson "$har"
  ex=$(cat "$out/last.txt")
  measure "harken stats (endpoint,credential)" "$bytes" "$bin" stats "$har"
  st=$(cat "$out/last.txt")
  measure "harken stats --by endpoint,status,host --every 1m" "$bytes" "$bin" stats --by endpoint,status,host --every 1m "$har"
  awk -v a="$st" -v b="$ex" 'BEGIN { printf "stats / exchanges wall: %.2fx (target <= 1.3x)\n", a / b }'
done
