#!/usr/bin/env bash
# import_bench.sh: how fast `cairn import` loads a JSON Lines file into a fresh data dir.
#
#   bench/import_bench.sh [--events N] [--build DIR] [--repeat R] [--seed S]
#
# Generates N events (default 10,000,000) with gen_events once into DIR/bench-cache (kept across
# runs: same N and seed, same file), then times `cairn import --data FRESH FILE` R times (default
# 3) and prints the median, one figure per line (`name value unit`). The last run's data dir is
# kept at DIR/bench-cache/import-data for scan_bench. Binaries come from DIR (default
# build/bench, the release preset): DIR/src/app/cairn and DIR/bench/gen_events.
#
# Wall time includes the final flush to segments (import returns after it). CPU is the import
# process's user+sys. The file is read once before timing so the first run is not charged for
# cold page cache when the others are not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
events=10000000
build="$root/build/bench"
repeat=3
seed=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    [0-9]*) events=$1; shift ;;
    *) echo "usage: $0 [--events N] [--build DIR] [--repeat R] [--seed S]" >&2; exit 2 ;;
  esac
done

cairn="$build/src/app/cairn"
gen="$build/bench/gen_events"
for b in "$cairn" "$gen"; do
  [[ -x "$b" ]] || { echo "import_bench: $b not built (cmake --build $build --target cairn gen_events)" >&2; exit 1; }
done

cache="$build/bench-cache"
mkdir -p "$cache"
file="$cache/events-$events-seed$seed.jsonl"
if [[ ! -s "$file" ]]; then
  "$gen" --events "$events" --seed "$seed" --out "$file.tmp"
  mv "$file.tmp" "$file"
fi
cat "$file" > /dev/null  # warm the page cache

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

data="$cache/import-data"
walls=() cpus=()
for ((i = 1; i <= repeat; i++)); do
  rm -rf "$data"
  log="$cache/import-$i.log"
  /usr/bin/time -f '%e %U %S' -o "$cache/import-$i.time" "$cairn" import --data "$data" --no-progress "$file" 2> "$log" || {
    echo "import_bench: cairn import failed (run $i):" >&2; cat "$log" >&2; exit 1; }
  read -r wall user sys < "$cache/import-$i.time"
  accepted=$(sed -n 's/.* \([0-9]*\) accepted.*/\1/p' "$log" | tail -1)
  if [[ "$accepted" != "$events" ]]; then
    echo "import_bench: run $i accepted '$accepted' of $events events:" >&2; cat "$log" >&2; exit 1
  fi
  walls+=("$wall")
  cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
  echo "import_bench: run $i: ${wall}s wall, ${user}s user, ${sys}s sys" >&2
done

wall=$(printf '%s\n' "${walls[@]}" | median)
cpu=$(printf '%s\n' "${cpus[@]}" | median)
seg_bytes=$(du -sb "$data/store/seg" | cut -f1)
file_bytes=$(stat -c %s "$file")
awk -v n="$events" -v w="$wall" -v c="$cpu" -v s="$seg_bytes" -v f="$file_bytes" 'BEGIN {
  printf "import_events %d events\n", n
  printf "import_input_bytes_per_event %.1f bytes/event\n", f / n
  printf "import_wall_s %.2f s\n", w
  printf "import_events_per_s %.0f events/s\n", n / w
  printf "import_cpu_s %.2f cpu-s\n", c
  printf "import_events_per_cpu_s %.0f events/cpu-s\n", n / c
  printf "import_cores_used %.2f cores\n", c / w
  printf "import_segment_bytes_per_event %.2f bytes/event\n", s / n
}'
