#!/usr/bin/env bash
# Access-log benchmark: MB/s, CPU seconds, peak RSS and peak RssAnon (the heap: anonymous
# memory, without the mapped file's pages) of `harken exchanges --format ndjson`,
# `harken analyze --format json` and `harken stats` on generated nginx combined logs, plain and
# gzipped. Targets (issue 10): `exchanges` on a plain log >= 400 MB/s on 2 cores, RssAnon
# <= 200 MB and the same for every size.
# Usage: benches/logs.sh [SIZE_MB...]   (default: 200 1000). Output files under bench-out/.
# Runs everything under nice -n 19 (the machine is shared): when the load average printed is
# above the core count, compare CPU seconds rather than wall time. `wc -l` and `zcat` are the
# floor of reading the bytes at all. HARKEN_BENCH_ANALYZE=0 skips analyze (the slowest: it
# keeps every refused exchange and each success of a logged identity, in temporary files in
# $TMPDIR; see the README's performance table).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 1000)
out=bench-out
mkdir -p "$out"
[ -n "${HARKEN_BIN:-}" ] || nice -n 19 cargo build --release --quiet
bin=${HARKEN_BIN:-target/release/harken}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; binary $bin"

# label, bytes, command...: one run; prints wall, MB/s, CPU (user+sys), peak RSS, peak RssAnon
# (sampled every 50 ms from /proc) and the load average before the run.
measure() {
  local label=$1 bytes=$2; shift 2
  local load anon=0 pid child a
  load=$(cut -d' ' -f1 /proc/loadavg)
  nice -n 19 /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" > /dev/null 2> "$out/stderr.txt" &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    child=$(pgrep -P "$pid" | head -1 || true)
    if [ -n "$child" ]; then
      a=$(awk '/^RssAnon:/ {print $2}' "/proc/$child/status" 2> /dev/null || echo 0)
      [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    fi
    sleep 0.05
  done
  wait "$pid" || true
  read -r secs user sys kb < "$out/time.txt"
  awk -v l="$label" -v s="$secs" -v u="$user" -v y="$sys" -v k="$kb" -v a="$anon" -v b="$bytes" -v ld="$load" \
    'BEGIN { printf "%-46s %7.2f s %6.0f MB/s  CPU %6.2f s  RSS %5.0f MB  anon %5.0f MB  load %s\n",
             l, s, b / 1e6 / s, u + y, k / 1024, a / 1024, ld }'
}

for size in "${sizes[@]}"; do
  log="$out/nginx-${size}mb.log"
  [ -f "$log" ] || nice -n 19 python3 benches/gen_nginx_log.py "$log" --size-mb "$size" --seed 1
  [ -f "$log.gz" ] || nice -n 19 gzip -1 -k "$log"
  bytes=$(stat -L -c %s "$log")
  echo "== $log: $((bytes / 1000000)) MB ($(stat -L -c %s "$log.gz" | awk '{printf "%d", $1/1e6}') MB gzipped), $(wc -l < "$log") lines"
  measure "wc -l (plain)" "$bytes" wc -l "$log"
  measure "zcat (gzip)" "$bytes" zcat "$log.gz"
  measure "exchanges --format ndjson (plain)" "$bytes" "$bin" exchanges --format ndjson "$log"
  measure "exchanges --format ndjson (gzip)" "$bytes" "$bin" exchanges --format ndjson "$log.gz"
  measure "exchanges --status 401,403 (plain)" "$bytes" "$bin" exchanges --status 401,403 --format ndjson "$log"
  measure "stats --format json (plain)" "$bytes" "$bin" stats --format json "$log"
  if [ "${HARKEN_BENCH_ANALYZE:-1}" != 0 ]; then
    measure "analyze --format json (plain)" "$bytes" "$bin" analyze --format json "$log"
    measure "analyze --format json (gzip)" "$bytes" "$bin" analyze --format json "$log.gz"
  fi
done
