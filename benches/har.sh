#!/usr/bin/env bash
# HAR ingest benchmark: MB/s and peak memory of `harken exchanges --format ndjson` on a large
# generated HAR, plus the reader comparison (`har` crate vs harken's streaming reader).
# Usage: benches/har.sh [SIZE_MB]   (default 300). Needs python3 and ../shared/bench/gen_har.py.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-300}"
out=bench-out
mkdir -p "$out"
har="$out/bench-${size}mb.har"
[ -f "$har" ] || python3 ../shared/bench/gen_har.py "$har" --size-mb "$size" --seed 1
cargo build --release --quiet
cargo bench --bench readers --no-run --quiet 2>/dev/null
bench_bin=$(ls -t target/release/deps/readers-* | grep -v '\.d$' | head -1)
bytes=$(stat -L -c %s "$har")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; file: $har ($((bytes / 1000000)) MB)"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
  read -r secs kb < "$out/time.txt"
  awk -v l="$label" -v s="$secs" -v k="$kb" -v b="$bytes" \
    'BEGIN { printf "%-40s %6.2f s %7.0f MB/s  peak RSS %6.0f MB\n", l, s, b / 1e6 / s, k / 1024 }'
}

measure "harken exchanges --format ndjson" target/release/harken exchanges --format ndjson "$har"
measure "harken analyze --format json" target/release/harken analyze --format json "$har"
measure "reader: harken (analysis bodies)" "$bench_bin" harken "$har"
measure "reader: harken (no bodies)" "$bench_bin" harken-nobodies "$har"
measure "serde_json syntax only (one thread)" "$bench_bin" skim "$har"
measure "reader: har crate 0.9 (whole document)" "$bench_bin" har "$har"
