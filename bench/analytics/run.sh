#!/usr/bin/env bash
# bench/analytics/run.sh: the 4-step 7-day funnel and the 8-week retention on Cairn, ClickHouse
# and PostgreSQL, same machine, same data, same run. One figure per line: `name value unit`.
#
#   bench/analytics/run.sh [--size 10m|100m|1m|EVENTS:CUSTOMERS] [--reps R] [--build DIR]
#                          [--data DIR] [--engines "cairn clickhouse postgres"] [--seed S]
#                          [--cairn BIN] [--gen BIN] [--stream] [--direct [--serve]]
# Exit status: 0 when every engine that ran printed the same funnel and retention as Cairn (the
# `clickhouse` ctest, tests/queries/peer, relies on it), 1 otherwise.
#
# Data: bench/gen_events --lean --whole-seconds --csv (deterministic: same size and seed, same
# bytes), generated once into DATA (default /tmp/cairn-bench-analytics) and kept. Whole seconds
# because ClickHouse 18.16's windowFunnel only takes whole seconds: with them the three engines
# must print identical counts (`*_matches_clickhouse 1`), so the timings compare the same work.
#   10m  = 10,000,000 events / 200,000 customers;  100m = 100,000,000 / 1,000,000;  1m = 1M / 20k.
#
# Cairn: `cairn import` of the JSON Lines into DATA/<name>.cairn (once, timed), then a real
# `cairn serve` on loopback; POST /v1/query/funnel and /v1/query/retention R+1 times each. The
# first call is reported apart (`*_first_ms`: it includes building the analytics index of the
# snapshot); the figure is the median of the other R (warm index, like the peers' warm caches).
# events/s per core = events scanned / server CPU-seconds (utime+stime from /proc) over the warm
# runs. Peak memory = the server's VmHWM. `*_ms` is the request's time as curl measures it (HTTP
# and JSON included; not the start of the curl process); `*_engine_ms` the engine's own time from the answer. Also times depth-3 paths
# and a daily trend (Cairn only; SKIP_INSIGHTS=1 skips them).
# Peers: ../shared/peers/{clickhouse,postgres}.sh (private servers on loopback; Debian packages
# clickhouse-server, postgresql: scripts/setup installs them), each REPS times, server-side ms.
#
# --stream: the JSON Lines never touch the disk — gen_events writes them into a FIFO that `cairn
# import` reads (the 100M run: 36 GB of JSON Lines would not fit next to the store and the CSV);
# only the CSV for the peers and the imported store are kept.
#
# --direct: the store is written straight into segment files by bench/analytics/gen_store (same
# generator, same rows as the CSV; no message ids, payloads or profiles — docs in gen_store.cc),
# minutes instead of the hours a 100M import takes here; and the CSV is never kept: each peer
# reads it from a FIFO that gen_events fills (so the peers' load time includes generating it).
# --direct --serve: the same store, queried through a real `cairn serve` over HTTP as without
# --direct (the server first derives every customer's journey state from the store); prints the
# startup as cairn_serve_startup_s (launch to "serving"), cairn_serve_startup_cpu_s,
# cairn_serve_startup_peak_rss_mb (VmHWM when it starts serving) and the journey state the startup
# derived (cairn_journey_state_bytes_per_customer: the live state; ..._history_...: the history kept
# apart), from the hub's log line. SERVE_START_TIMEOUT (s, default 3600) bounds the wait.
#
# The server runs with CAIRN_VALUE_REFIT_SECONDS=0: the value model's fit at startup scans the
# whole store and would share the 2 cores with the timed queries.
#
# Every engine's raw output is kept in DATA/results-<name>-<time>/ for inspection.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
size=10m
cairn="" gen=""
reps=5
build="$root/build/release"
data="${TMPDIR:-/tmp}/cairn-bench-analytics"
engines="cairn clickhouse postgres"
seed=1
stream=0
direct=0
serve=0
peers="${PEERS_DIR:-$root/../shared/peers}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --cairn) cairn=$2; shift 2 ;;
    --gen) gen=$2; shift 2 ;;
    --stream) stream=1; shift ;;
    --direct) direct=1; shift ;;
    --serve) serve=1; shift ;;
    *) echo "usage: $0 [--size 10m|100m|1m|EVENTS:CUSTOMERS] [--reps R] [--build DIR] [--data DIR] [--engines LIST] [--seed S]" >&2
       exit 2 ;;
  esac
done
case "$size" in
  1m) events=1000000 customers=20000 ;;
  10m) events=10000000 customers=200000 ;;
  100m) events=100000000 customers=1000000 ;;
  *:*) events=${size%%:*} customers=${size##*:} ;;
  *) echo "run.sh: bad --size '$size'" >&2; exit 2 ;;
esac
log() { echo "[analytics/run.sh] $*" >&2; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "NA"; else print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
now_ns() { date +%s%N; }

cairn="${cairn:-$build/src/app/cairn}"
gen="${gen:-$build/bench/gen_events}"
gen_store="$(dirname "$gen")/gen_store"
[[ -x "$gen" ]] || { echo "run.sh: $gen not built (cmake --build $build --target gen_events cairn)" >&2; exit 1; }

name="ev${events}_c${customers}_s${seed}"
mkdir -p "$data"
jsonl="$data/$name.jsonl" csv="$data/$name.csv"
if [[ $stream == 1 || $direct == 1 ]]; then
  :  # generated below, straight into cairn import (and the CSV), unless already imported
elif [[ ! -s "$jsonl" || ! -s "$csv" ]]; then
  log "generating $name"
  "$gen" --events "$events" --customers "$customers" --seed "$seed" --lean --whole-seconds \
    --out "$jsonl.tmp" --csv "$csv.tmp"
  mv "$jsonl.tmp" "$jsonl" && mv "$csv.tmp" "$csv"
fi
results="$data/results-$name-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$results"

main() {
echo "machine_cores $(nproc) cores"
echo "machine_loadavg_start $(cut -d' ' -f1 /proc/loadavg) load"
echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) -"
echo "events $events events"
echo "customers $customers customers"

# ------------------------------------------------------------------------------------- cairn ---
cairn_ok=0
if [[ " $engines " == *" cairn "* ]]; then
  [[ -x "$cairn" ]] || { echo "run.sh: $cairn not built" >&2; exit 1; }
  store="$data/$name.cairn"
  if [[ $direct == 1 && ! -f "$store/.direct" ]]; then
    rm -rf "$store"
    [[ -x "$gen_store" ]] || { echo "run.sh: $gen_store not built" >&2; exit 1; }
    log "gen_store into $store"
    "$gen_store" --events "$events" --customers "$customers" --seed "$seed" --whole-seconds \
      --data "$store" > "$results/gen_store.txt" 2> "$results/gen_store.log" || {
      echo "run.sh: gen_store failed:" >&2; tail -5 "$results/gen_store.log" >&2; exit 1; }
    cp "$results/gen_store.txt" "$store/.direct"
  fi
  if [[ $direct == 1 ]]; then
    awk '{ sub(/^gen_store_/, "cairn_direct_store_"); print }' "$store/.direct"
    echo "cairn_store_disk_mb $(du -sm "$store" | cut -f1) MiB"
  elif [[ ! -f "$store/.imported" ]]; then
    rm -rf "$store"
    src="$jsonl" genpid=""
    if [[ $stream == 1 ]]; then
      src="$data/$name.fifo"
      rm -f "$src" && mkfifo "$src"
      log "generating $name into a FIFO for cairn import (and $csv)"
      "$gen" --events "$events" --customers "$customers" --seed "$seed" --lean --whole-seconds \
        --out "$src" --csv "$csv.tmp" &
      genpid=$!
    fi
    log "cairn import $src"
    /usr/bin/time -f '%e %U %S %M' -o "$results/import.time" \
      "$cairn" import --data "$store" --no-progress "$src" > "$results/import.log" 2>&1 || {
      echo "run.sh: cairn import failed:" >&2; tail -20 "$results/import.log" >&2; exit 1; }
    if [[ -n "$genpid" ]]; then
      wait "$genpid" || { echo "run.sh: gen_events failed" >&2; exit 1; }
      mv "$csv.tmp" "$csv" && rm -f "$src"
    fi
    cp "$results/import.time" "$store/.imported"
  fi
  if [[ $direct == 0 ]]; then
  read -r iw iu is im < "$store/.imported"
  awk -v n="$events" -v w="$iw" -v c="$(awk -v u="$iu" -v s="$is" 'BEGIN {print u + s}')" -v m="$im" 'BEGIN {
    printf "cairn_import_s %.1f s\ncairn_import_events_per_s %.0f events/s\ncairn_import_events_per_cpu_s %.0f events/cpu-s\ncairn_import_peak_rss_mb %.0f MiB\n",
      w, n / w, n / c, m / 1024 }'
  fi

  if [[ $direct == 1 && $serve == 0 ]]; then
    # In-process (analytics_store_bench): a gen_store store has no journey state, and `cairn serve`
    # would first re-derive every customer's journey (> 12 GB RSS at 100M). Figures are engine
    # wall/CPU times without HTTP — like the peers' server-side times.
    store_bench="$(dirname "$gen")/analytics_store_bench"
    [[ -x "$store_bench" ]] || { echo "run.sh: $store_bench not built" >&2; exit 1; }
    log "analytics_store_bench on $store"
    if "$store_bench" --data "$store" --reps "$reps" --threads "$(nproc)" --answers "$results/cairn.txt" \
        2> "$results/store_bench.err"; then
      cairn_ok=1
    else
      echo "run.sh: analytics_store_bench failed:" >&2; tail -5 "$results/store_bench.err" >&2
    fi
  else
    key="ak-bench-analytics-0123456789abcdef"
    # No query time limit: the first query builds the snapshot's index (at 100M on a loaded
    # machine that passed the default 30 s and the funnel answered 504).
    echo "query_time_limit_ms: 0" > "$results/serve.yaml"
    CAIRN_VALUE_REFIT_SECONDS=0 "$cairn" serve --config "$results/serve.yaml" --data "$store" --listen 127.0.0.1:0 --admin-key "$key" > "$results/serve.out" 2> "$results/serve.err" &
    srv=$! start_ns=$(now_ns)
    stop_server() { if kill -0 "$srv" 2>/dev/null; then kill -TERM "$srv"; wait "$srv" || true; fi; }
    trap stop_server EXIT
    url=""
    for _ in $(seq 1 $((${SERVE_START_TIMEOUT:-3600} * 5))); do
      url=$(sed -n 's/^cairn: serving \(http:[^ ]*\).*/\1/p' "$results/serve.out")
      [[ -n "$url" ]] && break
      kill -0 "$srv" 2>/dev/null || { cat "$results/serve.err" >&2; echo "run.sh: cairn serve died" >&2; exit 1; }
      sleep 0.2
    done
    [[ -n "$url" ]] || { echo "run.sh: cairn serve did not start" >&2; exit 1; }
    cpu_ticks() { awk '{print $14 + $15}' "/proc/$srv/stat"; }
    tck=$(getconf CLK_TCK)
    awk -v ns=$(($(now_ns) - start_ns)) -v t="$(cpu_ticks)" -v hz="$tck" \
        -v hwm="$(awk '$1 == "VmHWM:" {print $2}' "/proc/$srv/status")" 'BEGIN {
      printf "cairn_serve_startup_s %.1f s\ncairn_serve_startup_cpu_s %.1f s\n", ns / 1e9, t / hz
      printf "cairn_serve_startup_peak_rss_mb %.0f MiB\n", hwm / 1024 }'
    # The hub's log line "journey: N customers, live state B bytes per customer (S MiB), history
    # H bytes per customer (T MiB)" (app/hub.cc), when the journey engine runs.
    sed -n 's/.*journey: \([0-9]*\) customers, live state \([0-9.]*\) bytes per customer.*history \([0-9.]*\) bytes per customer.*/cairn_journey_customers \1 customers\ncairn_journey_state_bytes_per_customer \2 B\ncairn_journey_history_bytes_per_customer \3 B/p' \
      "$results/serve.err" | head -3

    funnel_spec='{"steps":[{"event":"Signed Up"},{"event":"Product Viewed"},{"event":"Added To Cart"},{"event":"Order Completed"}],"window":"7d"}'
    retention_spec='{"start_event":"Signed Up","return_event":"Order Completed","period":"week","periods":8}'
    # The server's background work after it starts serving (the analytics index warm-up, the
    # dashboard's daily totals: one scan each) would share the cores with the warm runs, which then
    # time it too (10M, quiet machine: funnel 102 ms with 178 ms of server CPU per query, against
    # 28 ms in the engine). So after the first query, which is timed with it, wait until the server
    # is idle (under 5% of a core over one second; at most 300 s) — the peers are timed idle too.
    idle_waited=0
    wait_idle() {
      [[ $idle_waited == 1 ]] && return 0
      idle_waited=1
      local a b t=0
      while ((t < 300)); do
        a=$(cpu_ticks); sleep 1; b=$(cpu_ticks); t=$((t + 1))
        ((b - a <= tck / 20)) && break
      done
      echo "cairn_wait_idle_s $t s"
    }
    # query NAME SPEC [ENDPOINT]: prints NAME_first_ms, NAME_ms (median of the warm runs),
    # NAME_events_per_cpu_s; ENDPOINT defaults to NAME (POST /v1/query/ENDPOINT).
    query() {
      local q=$1 spec=$2 endpoint=${3:-$1} i t0 t1 c0 c1 ms=() ems=() code
      for ((i = 0; i <= reps; i++)); do
        # The request's time as curl measures it (connect to last byte), not the shell's time around
        # the curl process: starting a process costs 30-200 ms on this machine (35-55 ms on a quiet
        # one), which is neither Cairn's work nor in the peers' figures (ClickHouse's server-side
        # query_duration_ms, psql's \timing in one session).
        local out
        out=$(curl -s -o "$results/cairn.$q.$i.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $key" \
          -H 'Content-Type: application/json' --data-binary "$spec" "$url/v1/query/$endpoint")
        code=${out%% *}
        t0=0 t1=$(awk -v s="${out#* }" 'BEGIN { printf "%.0f", s * 1e9 }')
        if [[ "$code" != 200 ]]; then
          echo "run.sh: POST /v1/query/$endpoint answered $code: $(head -c 300 "$results/cairn.$q.$i.json")" >&2
          return 1
        fi
        if [[ $i == 0 ]]; then
          awk -v ns=$((t1 - t0)) -v q="$q" 'BEGIN { printf "cairn_%s_first_ms %.1f ms\n", q, ns / 1e6 }'
          wait_idle
          c0=$(cpu_ticks)
        else
          ms+=("$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e6 }')")
          # the engine's own time ("ms", the last one in the answer: stats.ms or top-level ms)
          ems+=("$(grep -o '"ms":[0-9.eE+-]*' "$results/cairn.$q.$i.json" | tail -1 | cut -d: -f2)")
        fi
      done
      c1=$(cpu_ticks)
      echo "cairn_${q}_runs $(IFS=,; echo "${ms[*]}") ms"
      echo "cairn_${q}_ms $(printf '%s\n' "${ms[@]}" | median) ms"
      echo "cairn_${q}_engine_ms $(printf '%s\n' "${ems[@]}" | median) ms"
      awk -v n="$events" -v r="$reps" -v t=$((c1 - c0)) -v hz="$tck" -v q="$q" 'BEGIN {
        printf "cairn_%s_server_cpu_ms %.0f ms\n", q, t / hz / r * 1000;  # per query, every server thread
        if (t > 0) printf "cairn_%s_events_per_cpu_s %.0f events/cpu-s\n", q, n * r / (t / hz);
        else printf "cairn_%s_events_per_cpu_s NA events/cpu-s\n", q }'
    }
    if query funnel "$funnel_spec" && query retention "$retention_spec"; then
      # "who dropped at step 3": the first page of the customers who reached step 3 and no later one.
      query funnel_who_dropped3 "${funnel_spec%\}}"',"who":{"step":3,"status":"dropped","limit":100}}' funnel || true
      if [[ -z "${SKIP_INSIGHTS:-}" ]]; then  # the issue's other two timed queries (no peer runs them)
        query paths '{"anchor":"Signed Up","direction":"next","depth":3}' || true
        query trends '{"interval":"day"}' || true
      fi
      cairn_ok=1
      # Same line format as the peer scripts, for the comparison below.
      python3 - "$results/cairn.funnel.1.json" "$results/cairn.retention.1.json" > "$results/cairn.txt" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))
for k, s in enumerate(f["steps"], 1):
    print("funnel_step%d %d" % (k, s["count"]))
for c in json.load(open(sys.argv[2]))["cohorts"]:
    print("retention %s %d %s" % (c["start"], c["size"], " ".join(str(x) for x in c["returned"])))
EOF
    fi
    echo "cairn_server_peak_rss_mb $(awk '$1 == "VmHWM:" {printf "%.0f", $2 / 1024}' "/proc/$srv/status") MiB"
    stop_server
    trap - EXIT
  fi
fi

# ------------------------------------------------------------------------------------- peers ---
for engine in clickhouse postgres; do
  [[ " $engines " == *" $engine "* ]] || continue
  src="$csv" genpid=""
  if [[ $direct == 1 && ! -s "$csv" ]]; then  # the CSV through a FIFO, generated as the peer loads it
    src="$data/$name.$engine.fifo"
    rm -f "$src" && mkfifo "$src"
    "$gen" --events "$events" --customers "$customers" --seed "$seed" --lean --whole-seconds \
      --out /dev/null --csv "$src" 2> "$results/gen_events.$engine.log" &
    genpid=$!
  fi
  log "$engine on $src (REPS=$reps)"
  peer_ok=1
  REPS="$reps" bash "$peers/$engine.sh" "$src" > "$results/$engine.txt" 2> "$results/$engine.log" || peer_ok=0
  if [[ -n "$genpid" ]]; then
    [[ $peer_ok == 1 ]] || kill "$genpid" 2>/dev/null || true  # a peer that never opened the FIFO
    wait "$genpid" || peer_ok=0
    rm -f "$src"
  fi
  if [[ $peer_ok == 0 ]]; then
    echo "run.sh: $engine.sh failed, see $results/$engine.log" >&2
    echo "${engine}_failed 1 -"
    continue
  fi
  prefix=$([[ $engine == clickhouse ]] && echo clickhouse || echo postgres)
  awk -v p="$prefix" '
    $1 == "load_s" { printf "%s_load_s %s s\n", p, $2 }
    $1 == "load_rows_per_s" { printf "%s_load_rows_per_s %s rows/s\n", p, $2 }
    $1 == "funnel_ms_median" { printf "%s_funnel_ms %s ms\n", p, $2 }
    $1 == "retention_ms_median" { printf "%s_retention_ms %s ms\n", p, $2 }
    $1 == "funnel_ms_runs" { printf "%s_funnel_runs %s ms\n", p, $2 }
    $1 == "retention_ms_runs" { printf "%s_retention_runs %s ms\n", p, $2 }
    $1 == "server_hwm_kb" { printf "%s_server_peak_rss_mb %.0f MiB\n", p, $2 / 1024 }' "$results/$engine.txt"
done

}  # main

main | tee "$results/figures.txt"
[[ ${PIPESTATUS[0]} == 0 ]] || exit 1

# ---------------------------------------------------------------- ratios and agreement ---
fig() { awk -v k="$1" '$1 == k {print $2}' "$results/figures.txt"; }
ratio() {  # NAME NUMERATOR DENOMINATOR: how many times faster Cairn is (peer ms / cairn ms)
  local a b; a=$(fig "$2"); b=$(fig "$3")
  [[ -n "$a" && -n "$b" && "$a" != NA && "$b" != NA ]] && awk -v n="$1" -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%s %.2f x\n", n, a / b }'
  return 0
}
for q in funnel retention; do
  ratio "ratio_clickhouse_over_cairn_$q" "clickhouse_${q}_ms" "cairn_${q}_ms"
  ratio "ratio_postgres_over_cairn_$q" "postgres_${q}_ms" "cairn_${q}_ms"
done
exit_code=0
if [[ " $engines " == *" cairn "* && ! -s "$results/cairn.txt" ]]; then
  echo "run.sh: no Cairn answers to compare (see $results/serve.err)" >&2; exit_code=1
fi
grep -q '_failed 1' "$results/figures.txt" && exit_code=1
if [[ -s "$results/cairn.txt" ]]; then
  for engine in clickhouse postgres; do
    [[ -s "$results/$engine.txt" ]] || continue
    if diff <(grep -E '^(funnel_step[0-9]|retention) ' "$results/cairn.txt") \
            <(grep -E '^(funnel_step[0-9]|retention) ' "$results/$engine.txt") > "$results/diff.$engine.txt"; then
      echo "cairn_matches_$engine 1 bool"
    else
      echo "cairn_matches_$engine 0 bool"; exit_code=1
    fi
  done
fi
echo "machine_loadavg_end $(cut -d' ' -f1 /proc/loadavg) load"
echo "results_dir $results -"
exit $exit_code
