#!/usr/bin/env bash
# Benchmark the pcap reader on a large generated capture, next to tshark.
#
#   benches/pcap.sh            # 200 MiB capture, 64 concurrent connections
#   SIZE_MB=400 benches/pcap.sh
#
# Generates bench-out/bench-<SIZE>mb.pcap with ../shared/bench/gen_pcap.py (kept between runs),
# builds release, and times:
#   1. harken exchanges --format ndjson FILE > /dev/null   (the whole CLI: it keeps one row
#      per exchange to sort and print them)
#   2. benches/readers.rs (harken mode)                    (ingest alone: exchanges are counted
#      and dropped, showing the reader's own memory)
#   3. tshark -r FILE -Y http -T fields -e http.response.code
# and prints MB/s and peak RSS for each, plus exchange counts to set against the generator's.
# Needs /usr/bin/time and tshark:
#   apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y time tshark
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-200}
CONCURRENCY=${CONCURRENCY:-64}
SHARED=${SHARED:-}
if [ -z "$SHARED" ]; then
  for d in ../shared ../../shared /work/shared; do
    if [ -f "$d/bench/gen_pcap.py" ]; then SHARED=$d; break; fi
  done
fi
[ -n "$SHARED" ] || { echo "gen_pcap.py not found: set SHARED=/path/to/shared" >&2; exit 2; }

OUT=bench-out
mkdir -p "$OUT"
F="$OUT/bench-${SIZE_MB}mb.pcap"
if [ ! -f "$F" ]; then
  echo "generating $F ..." >&2
  python3 "$SHARED/bench/gen_pcap.py" "$F" --size-mb "$SIZE_MB" --concurrency "$CONCURRENCY" 2> "$OUT/gen-${SIZE_MB}.log"
fi
cat "$OUT/gen-${SIZE_MB}.log" 2>/dev/null || true

cargo build --release --quiet
cargo bench --bench readers --no-run --quiet 2>/dev/null
readers=$(ls -t target/release/deps/readers-* | grep -v '\.d$' | head -1)

bytes=$(stat -L -c %s "$F")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')

# Run a command under /usr/bin/time -v; print seconds, MB/s and peak RSS.
measure() {
  local label=$1; shift
  local log="$OUT/time-$label.log"
  /usr/bin/time -v "$@" > "$OUT/out-$label.txt" 2> "$log"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log")
  awk -v l="$label" -v w="$wall" -v m="$mb" -v r="$rss" \
    'BEGIN { printf "%-12s %8.2f s  %8.1f MB/s  peak RSS %7.1f MiB\n", l, w, (w > 0 ? m / w : 0), r }'
}

echo "file: $F ($mb MiB)"
measure harken target/release/harken exchanges --format ndjson "$F"
echo "  harken exchanges: $(wc -l < "$OUT/out-harken.txt")"
measure ingest-only "$readers" harken "$F"
echo "  $(head -1 "$OUT/out-ingest-only.txt" | cut -c1-220)"
if command -v tshark > /dev/null; then
  measure tshark tshark -r "$F" -Y http -T fields -e http.response.code
  echo "  tshark responses: $(grep -c . "$OUT/out-tshark.txt" || true)"
else
  echo "tshark not installed: skipped"
fi
