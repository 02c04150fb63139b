#!/usr/bin/env bash
# On the lent GPU machine (see scripts/device_bundle.sh): one time-boxed slice of a training run.
# Usage: bash scripts/device_train.sh CONFIG NAME MINUTES [NPROC]
#   CONFIG: a training preset (fast-gpu, ...) or JSON file; NAME: the run under .device/runs/ (resumed when it
#   holds a checkpoint); MINUTES: wall-time budget of the training itself (keep it ≤ 8 of a 10-minute command).
# Writes to $OUT: checkpoint.pt, config.json, log.csv, val.csv, curve.png, best.safetensors (when validated)
# and NAME-ema.safetensors (7 files: the device tool returns at most 8).
# Back here: copy $OUT's files into .device/runs/NAME/ (or the run folder you keep) for the next slice.
set -euo pipefail
CONFIG=$1 NAME=$2 MINUTES=$3 NPROC=${4:-1}
source "$(dirname "$0")/device_env.sh"
RUN=.device/runs/$NAME
if [ "$NPROC" -gt 1 ]; then
    "$PY" -m torch.distributed.run --nproc_per_node="$NPROC" -m oldfilm.train --config "$CONFIG" --run-dir "$RUN" \
        --minutes "$MINUTES"
else
    "$PY" -m oldfilm.train --config "$CONFIG" --run-dir "$RUN" --minutes "$MINUTES"
fi
"$PY" -m oldfilm.train --run-dir "$RUN" --export "$RUN/$NAME-ema.safetensors"
"$PY" -c "from oldfilm.train.plot import draw_curves; draw_curves('$RUN')" || true
if [ -n "${OUT:-}" ]; then
    for f in checkpoint.pt config.json log.csv val.csv curve.png best.safetensors "$NAME-ema.safetensors"; do
        [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/"
    done
fi
tail -n 3 "$RUN/log.csv"
