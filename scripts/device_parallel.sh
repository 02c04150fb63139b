#!/usr/bin/env bash
# On the lent GPU machine (see scripts/device_bundle.sh): several training runs side by side on its one GPU
# for MINUTES each, then the CUDA speed figures. The GPU is not what limits a slice: each run's DataLoader
# workers (its config's `workers`) make fresh clips on the machine's 16 cores, so runs that share the slice
# cost each other cores, not GPU time. Everything comes back in one archive (the tool returns 8 files at most).
# Usage: [SPEED=0] bash scripts/device_parallel.sh MINUTES [--init FILE] CONFIG:NAME [CONFIG:NAME ...]
#   --init: weights that start every run found without a checkpoint under .device/runs/NAME (else it resumes)
# Writes to $OUT: runs.tar.gz (NAME/: config.json, checkpoint.pt, log.csv, train.log, snapshots/),
# speed-640.json and speed-1080.json (benchmarks/speed.py on CUDA).
# Back here: tar -xzf runs.tar.gz -C .device/runs; the next slice resumes from it.
set -uo pipefail
MINUTES=$1; shift
INIT=""
if [ "${1:-}" = "--init" ]; then INIT=$2; shift 2; fi
source "$(dirname "$0")/device_env.sh"
OUT=${OUT:-.device/out}
mkdir -p "$OUT"
pids=() names=()
for spec in "$@"; do
    cfg=${spec%%:*} name=${spec#*:}
    run=.device/runs/$name
    mkdir -p "$run"
    args=(--config "$cfg" --run-dir "$run" --minutes "$MINUTES")
    if [ -n "$INIT" ] && [ ! -f "$run/checkpoint.pt" ]; then args+=(--init "$INIT"); fi
    "$PY" -m oldfilm.train "${args[@]}" >"$run/train.log" 2>&1 &
    pids+=($!) names+=("$name")
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; echo "${names[$i]}: exit $?"
    tail -n 2 ".device/runs/${names[$i]}/log.csv" 2>/dev/null
    grep -iE "error|Traceback" ".device/runs/${names[$i]}/train.log" | tail -n 3
done
(cd .device/runs && tar -czf "$OUT/runs.tar.gz" --exclude=val_set.npz "${names[@]}")
ls -la "$OUT"
# speed on CUDA after the training, so that nothing else loads the machine while it is timed (SPEED=0: skip;
# it takes up to 160 s)
[ "${SPEED:-1}" = 0 ] && exit 0
timeout 100 "$PY" benchmarks/speed.py --presets fast guided quality rtn-paper --frames 48 \
    --json "$OUT/speed-640.json"
timeout 60 "$PY" benchmarks/speed.py --presets fast quality --frames 16 --size 1088 1920 \
    --json "$OUT/speed-1080.json"
exit 0
