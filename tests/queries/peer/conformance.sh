#!/usr/bin/env bash
# Peer conformance (ctest label `clickhouse`): the same generated data in ClickHouse and Cairn, the
# 4-step 7-day funnel and the 8-week retention must be identical, number for number.
#
#   conformance.sh CAIRN_BIN GEN_EVENTS_BIN [EVENTS:CUSTOMERS]      (default 300000:6000)
#
# Data: gen_events --whole-seconds (ClickHouse 18.16's windowFunnel takes whole seconds only; a
# customer's events stay >= 1 s apart) with anonymous-then-identified customers, so Cairn's side
# also exercises identity merges (the CSV carries the final userId on every row). The work is
# bench/analytics/run.sh with one repetition and engines cairn + clickhouse; it exits 1 on any
# difference (the diff is in <data>/results-*/diff.clickhouse.txt). Skipped (exit 77) when
# clickhouse-server is not installed (scripts/setup installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cairn=${1:?usage: conformance.sh CAIRN_BIN GEN_EVENTS_BIN [EVENTS:CUSTOMERS]}
gen=${2:?usage: conformance.sh CAIRN_BIN GEN_EVENTS_BIN [EVENTS:CUSTOMERS]}
size=${3:-300000:6000}
command -v clickhouse-server > /dev/null || { echo "clickhouse-server not installed: skipped"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-peer-conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Private ports derived from the work dir's name so parallel runs do not collide.
h=$(( $(cksum <<< "$work" | cut -d' ' -f1) % 2000 ))
export CH_TCP_PORT=$((21000 + h)) CH_HTTP_PORT=$((23000 + h))
t0=$(date +%s%N)
status=0
SKIP_INSIGHTS=1 "$here/../../../bench/analytics/run.sh" --size "$size" --reps 1 --engines "cairn clickhouse" \
  --cairn "$cairn" --gen "$gen" --data "$work" || status=$?
echo "conformance_wall_s $(( ($(date +%s%N) - t0) / 1000000000 )) s"
if [[ $status != 0 ]]; then
  for f in "$work"/results-*/diff.clickhouse.txt; do [[ -s "$f" ]] && { echo "--- cairn vs clickhouse:"; head -40 "$f"; }; done
  exit 1
fi
