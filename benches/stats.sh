#!/usr/bin/env bash
# `harken stats` against `harken exchanges --format ndjson` on large generated HARs: best wall of
# three, its CPU seconds, MB/s, peak RSS and peak RssAnon (the heap, without the mapped input's
# pages), and the number of groups each view has (the target: stats within 1.3x the time of
# exchanges; its memory grows with the groups it keeps, not with the exchanges).
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

measure() { # label, bytes, command... ; best wall of 3, with its CPU s, peak RSS and RssAnon
  local label=$1 bytes=$2; shift 2
  local best="" cpu="" rss="" anon=""
  for _ in 1 2 3; do
    nice -n 19 /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" > /dev/null &
    local pid=$! child="" peak=0 kb
    # RssAnon is the heap: anonymous memory, without the pages of the mapped input.
    while kill -0 "$pid" 2> /dev/null; do
      [ -n "$child" ] || child=$(pgrep -P "$pid" 2> /dev/null | head -1 || true)
      if [ -n "$child" ]; then
        kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$child/status" 2> /dev/null || true)
        [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
      fi
      sleep 0.02
    done
    wait "$pid"
    read -r secs user sys kb < "$out/time.txt"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then
      best=$secs; cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}'); rss=$kb; anon=$peak
    fi
  done
  awk -v l="$label" -v s="$best" -v c="$cpu" -v k="$rss" -v a="$anon" -v b="$bytes" \
    'BEGIN { printf "%-50s %6.2f s %6.2f cpu s %5.0f MB/s  RSS %5.0f MB  RssAnon %5.0f MB\n", l, s, c, b / 1e6 / s, k / 1024, a / 1024 }'
  echo "$best" > "$out/last.txt"
}

groups() { # command... : the number of groups (CSV rows) it prints
  local rows
  rows=$("$@" --format csv --top 0 | wc -l)
  echo "  groups: $((rows - 1))"
}

for size in "${sizes[@]}"; do
  har="$out/bench-${size}mb.har"
  [ -f "$har" ] || nice -n 19 python3 ../shared/bench/gen_har.py "$har" --size-mb "$size" --seed 1
  bytes=$(stat -L -c %s "$har")
  echo "== $har ($((bytes / 1000000)) MB)"
  measure "harken exchanges --format ndjson" "$bytes" "$bin" exchanges --format ndjson "$har"
  ex=$(cat "$out/last.txt")
  measure "harken stats (endpoint,credential)" "$bytes" "$bin" stats "$har"
  st=$(cat "$out/last.txt")
  groups "$bin" stats "$har"
  measure "harken stats --by endpoint,status,host --every 1m" "$bytes" "$bin" stats --by endpoint,status,host --every 1m "$har"
  groups "$bin" stats --by endpoint,status,host --every 1m "$har"
  measure "harken stats --by endpoint,status" "$bytes" "$bin" stats --by endpoint,status "$har"
  groups "$bin" stats --by endpoint,status "$har"
  awk -v a="$st" -v b="$ex" 'BEGIN { printf "stats / exchanges wall: %.2fx (target <= 1.3x)\n", a / b }'
done
