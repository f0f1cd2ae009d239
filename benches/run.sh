#!/usr/bin/env bash
# The one benchmark of harken's speed and memory (issue #14). In one run it:
#
#   1. generates the inputs when absent: bench-out/har-<N>mb.har and bench-out/pcap-<N>mb.pcap
#      with ../shared/bench/gen_har.py and gen_pcap.py (seed 1) for every size in SIZES
#      (default "200 1000"; add 3000 for the 3 GB inputs: SIZES="200 1000 3000", ~3 GB of disk
#      each and a long generation);
#   2. builds the release binary (cargo build --release) and, when absent, the baseline binary
#      of commit BASE_COMMIT (default 3abe199: main before tokens were made small; 1b5b831
#      before what analyze keeps went to disk;
#      a530dd6 before the earlier perf work; 96653e3, before issue #14 began, reports findings
#      of rules added since) into
#      bench-out/harken-<commit>;
#   3. times `analyze --format json`, `tokens --format json`, `timeline --format json` and
#      `exchanges --format ndjson` on every input, printing wall seconds, CPU seconds
#      (user+sys), MB/s (input bytes / wall), peak RSS and peak anonymous memory (RssAnon,
#      sampled: the heap, without the mapped input's file pages);
#   4. runs the baseline binary on the 200 MB inputs the same way, and checks that
#      `analyze --format json` findings of both binaries are identical there (exit 1 if not);
#   5. times the peers where installed: `jq '.log.entries|length'` on the HARs and tshark's
#      display filter for 401/403 on the captures (inputs up to 1 GB), and the floor of any
#      serde_json reader: the HAR checked for syntax alone, on one thread
#      (`cargo bench --bench readers -- skim`).
#
# Each input is read once before it is timed (in the page cache, as in the runs after the
# first). REPEAT=N runs each harken command N times and prints the median wall and CPU seconds
# (and the largest peaks); single runs on a shared 2-core machine vary by 10-20%. The peers run
# once.
#
# Everything runs under `nice -n 19` (the machine may be shared: compare CPU seconds, which
# load changes less than wall time). The load average is printed with the figures.
#
# Peers: set INSTALL_PEERS=1 to `apt-get install -y jq tshark` when missing (needs root and
# Debian/Ubuntu; nothing else in the repository installs them). Without them their rows are
# skipped with a message.
#
#   bash benches/run.sh                       # 200 MB and 1 GB
#   SIZES="200 1000 3000" bash benches/run.sh # and 3 GB
#   SIZES=200 COMMANDS="analyze" bash benches/run.sh
#   REPEAT=5 bash benches/run.sh              # medians of 5
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"200 1000"}
COMMANDS=${COMMANDS:-"analyze tokens timeline exchanges"}
FORMATS=${FORMATS:-"har pcap"}
REPEAT=${REPEAT:-1}
# The baseline: main just before the latest perf work landed (its diagnosis rules are today's;
# 96653e3, before issue #14 began, finds differently since rules were added).
BASE_COMMIT=${BASE_COMMIT:-3abe199}
OUT=bench-out
BIN=${BIN:-target/release/harken}
BASE=$OUT/harken-$BASE_COMMIT
SHARED=${SHARED:-}
if [ -z "$SHARED" ]; then
  for d in ../shared /work/shared; do
    if [ -f "$d/bench/gen_har.py" ]; then SHARED=$d; break; fi
  done
fi
[ -n "$SHARED" ] || { echo "gen_har.py not found: set SHARED=/path/to/shared" >&2; exit 2; }
mkdir -p "$OUT"

# --- inputs ----------------------------------------------------------------------------------
input_of() { # format size
  if [ "$1" = har ]; then echo "$OUT/har-$2mb.har"; else echo "$OUT/pcap-$2mb.pcap"; fi
}
for s in $SIZES; do
  for f in $FORMATS; do
    p=$(input_of "$f" "$s")
    [ -f "$p" ] && continue
    echo "generating $p ..." >&2
    if [ "$f" = har ]; then
      nice -n 19 python3 "$SHARED/bench/gen_har.py" "$p.part" --size-mb "$s" --seed 1
    else
      nice -n 19 python3 "$SHARED/bench/gen_pcap.py" "$p.part" --size-mb "$s" --seed 1 2> "$OUT/gen-pcap-$s.log"
    fi
    mv "$p.part" "$p"
  done
done

# --- binaries --------------------------------------------------------------------------------
if [ -z "${NO_BUILD:-}" ]; then
  nice -n 19 cargo build --release --quiet
fi
# The readers benchmark (for the syntax-only floor), built if need be; its path from cargo.
READERS=$(nice -n 19 cargo bench --bench readers --no-run 2>&1 | grep -o 'target/release/deps/readers-[0-9a-f]*' | tail -1 || true)
if [ ! -x "$BASE" ]; then
  echo "building the baseline $BASE_COMMIT into $BASE ..." >&2
  rm -rf "$OUT/base-src"
  git worktree add --detach "$OUT/base-src" "$BASE_COMMIT" > /dev/null
  (cd "$OUT/base-src" && nice -n 19 cargo build --release --quiet --target-dir ../base-target)
  cp "$OUT/base-target/release/harken" "$BASE"
  git worktree remove --force "$OUT/base-src"
fi
if [ -n "${INSTALL_PEERS:-}" ] && { ! command -v jq > /dev/null || ! command -v tshark > /dev/null; }; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq tshark > /dev/null
fi

# --- measuring -------------------------------------------------------------------------------
# measure LABEL BYTES OUTFILE CMD...: run CMD under nice REPEAT times, stdout to OUTFILE; print
# one row: the median wall and CPU seconds of the runs, the largest peaks.
measure() {
  local label=$1 bytes=$2 outfile=$3; shift 3
  local tf="$OUT/time.txt" runs="$OUT/runs.txt" i
  : > "$runs"
  for ((i = 0; i < REPEAT; i++)); do
    /usr/bin/time -f "%e %U %S %M %x" -o "$tf" nice -n 19 "$@" > "$outfile" 2> "$OUT/stderr.txt" &
    local tpid=$! peak=0 pid="" key kb _ tick
    # Sample the command's anonymous resident memory (the heap) until it ends, with shell
    # builtins only: an awk and a sleep started every 50 ms took CPU from the command measured.
    # The pause is a read that times out on a pipe this shell holds open at both ends.
    exec {tick}<> <(:)
    while kill -0 "$tpid" 2> /dev/null; do
      [ -z "$pid" ] && pid=$(pgrep -P "$tpid" 2> /dev/null | head -1 || true)
      if [ -n "$pid" ]; then
        while read -r key kb _; do
          if [ "$key" = RssAnon: ]; then
            [ "$kb" -gt "$peak" ] && peak=$kb
            break
          fi
        done 2> /dev/null < "/proc/$pid/status" || true
      fi
      read -r -t 0.05 -u "$tick" _ || true
    done
    exec {tick}>&-
    wait "$tpid" || true
    echo "$(cat "$tf") $peak" >> "$runs"
  done
  local wall cpu
  wall=$(awk '{ print $1 }' "$runs" | median)
  cpu=$(awk '{ print $2 + $3 }' "$runs" | median)
  awk -v l="$label" -v b="$bytes" -v w="$wall" -v c="$cpu" '
    { if ($4 > r) r = $4; if ($6 > a) a = $6; if ($5 != 0 && $5 != 1) code = $5 }
    END { printf "%-44s %7.2f %7.2f %8.0f %9.0f %9.0f %s\n", l, w, c, (w > 0 ? b / 1e6 / w : 0), r / 1024, a / 1024, (code == "" ? "" : "exit " code) }' "$runs"
}

# median: of the numbers on stdin, one a line.
median() {
  sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# warm PATH: read an input once before it is timed, so that no row pays for the disk (the
# first command on a 3 GB input otherwise read it from disk: 12.7 s against 8.9 s warm).
warm() {
  cat "$1" > /dev/null
}

header() {
  printf "%-44s %7s %7s %8s %9s %9s\n" "command / input" "wall s" "cpu s" "MB/s" "peak RSS" "peak anon"
  printf "%-44s %7s %7s %8s %9s %9s\n" "" "" "" "" "MiB" "MiB"
}

args_of() { # command
  case $1 in
    analyze) echo "analyze --format json" ;;
    tokens) echo "tokens --format json" ;;
    timeline) echo "timeline --format json" ;;
    exchanges) echo "exchanges --format ndjson" ;;
  esac
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $BIN ($(git rev-parse --short HEAD)); baseline: $BASE"
echo
header
for s in $SIZES; do
  for f in $FORMATS; do
    p=$(input_of "$f" "$s")
    bytes=$(stat -L -c %s "$p")
    warm "$p"
    for c in $COMMANDS; do
      # shellcheck disable=SC2046
      measure "harken $(args_of "$c") $(basename "$p")" "$bytes" /dev/null "$BIN" $(args_of "$c") "$p"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- baseline on the smallest size, and the findings check -----------------------------------
small=$(echo "$SIZES" | tr ' ' '\n' | sort -n | head -1)
echo
echo "baseline $BASE_COMMIT on the ${small} MB inputs:"
header
status=0
for f in $FORMATS; do
  p=$(input_of "$f" "$small")
  bytes=$(stat -L -c %s "$p")
  warm "$p"
  for c in $COMMANDS; do
    # shellcheck disable=SC2046
    measure "base $(args_of "$c") $(basename "$p")" "$bytes" /dev/null "$BASE" $(args_of "$c") "$p"
  done
  "$BIN" analyze --format json "$p" > "$OUT/new-$f.json" || true
  "$BASE" analyze --format json "$p" > "$OUT/base-$f.json" || true
  if python3 - "$OUT/base-$f.json" "$OUT/new-$f.json" << 'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["findings", "tokens", "conversations", "statuses", "exchanges", "clock_skew"]
bad = [k for k in keys if a.get(k) != b.get(k)]
print("  %s: %d findings, %d tokens; %s" % (sys.argv[2], len(b["findings"]), len(b["tokens"]),
      "identical to the baseline" if not bad else "DIFFERENT from the baseline in " + ", ".join(bad)))
sys.exit(1 if bad else 0)
EOF
  then :; else status=1; fi
done

# --- peers -----------------------------------------------------------------------------------
echo
echo "peers:"
header
for s in $SIZES; do
  [ "$s" -le 1000 ] || continue
  for f in $FORMATS; do
    p=$(input_of "$f" "$s")
    bytes=$(stat -L -c %s "$p")
    warm "$p"
    if [ "$f" = har ]; then
      if [ -n "$READERS" ]; then
        REPEAT=1 measure "serde_json syntax only $(basename "$p")" "$bytes" /dev/null "$READERS" skim "$p"
      fi
      if command -v jq > /dev/null; then
        REPEAT=1 measure "jq '.log.entries|length' $(basename "$p")" "$bytes" /dev/null jq '.log.entries|length' "$p"
      else
        echo "jq not installed: skipped (INSTALL_PEERS=1 installs it)"
      fi
    else
      if command -v tshark > /dev/null; then
        REPEAT=1 measure "tshark -Y 401/403 $(basename "$p")" "$bytes" /dev/null tshark -r "$p" \
          -Y 'http.response.code == 401 || http.response.code == 403' -T fields -e http.response.code
      else
        echo "tshark not installed: skipped (INSTALL_PEERS=1 installs it)"
      fi
    fi
  done
done
exit $status
