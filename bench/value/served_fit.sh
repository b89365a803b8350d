#!/usr/bin/env bash
# served_fit.sh BINARY DATA PORT LABEL: serves DATA with BINARY (no periodic refit), POSTs
# /v1/value/fit RUNS times (default 3) and prints each answer's fit seconds and the request's wall time, with the
# load average and the server's CPU time.
# The server log goes to $LOGDIR/serve-LABEL.log (default /tmp). docs/value.md "Benchmarks".
set -u
bin=$1 data=$2 port=$3 label=$4
CAIRN_VALUE_REFIT_SECONDS=0 nice -n 15 "$bin" serve --data "$data" --listen 127.0.0.1:$port --admin-key adm-h7-bench-key-0123456789 > ${LOGDIR:-/tmp}/serve-$label.log 2>&1 &
pid=$!
for i in $(seq 1 120); do curl -s -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 1; done
for i in $(seq 1 ${RUNS:-3}); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
  body=$(curl -s -w ' wall=%{time_total}' -X POST -H 'Authorization: Bearer adm-h7-bench-key-0123456789' http://127.0.0.1:$port/v1/value/fit)
  cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
  secs=$(echo "$body" | grep -o '"seconds":{[^}]*}')
  echo "$label run$i load=$load $secs $(echo "$body" | grep -o 'wall=.*') server_cpu=$(echo "($cpu1-$cpu0)/100" | bc -l | cut -c1-5)s customers=$(echo "$body" | grep -o '"customers":[0-9]*' | head -1) scanned=$(echo "$body" | grep -o '"interactionsScanned":[0-9]*')"
done
kill $pid; wait $pid 2>/dev/null
